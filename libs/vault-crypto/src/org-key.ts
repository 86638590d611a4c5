import { makeWrappedKeyPair, decryptRsa, encryptType4 } from './rsa';
import { SymmetricKey } from './symmetric-key';

/** An organisation key copy for one member: the 64 key bytes, RSA-OAEP-SHA1 under the member's public key. */
export function wrapOrgKeyForMember(orgKey: SymmetricKey, memberPublicKeyB64: string): string {
  return encryptType4(memberPublicKeyB64, orgKey.toBytes());
}

export function unwrapOrgKey(memberPrivateKeyDer: Uint8Array, wrapped: string): SymmetricKey {
  return SymmetricKey.fromBytes(decryptRsa(memberPrivateKeyDer, wrapped));
}

export interface OrganizationKeys {
  orgKey: SymmetricKey;
  /** The creator's copy of the org key (`key` in the create-organization request). */
  key: string;
  /** The organisation's own key pair (`keys.publicKey` / `keys.encryptedPrivateKey`), private key under the org key. */
  publicKey: string;
  privateKey: Buffer;
  encryptedPrivateKey: string;
}

/** What a client generates when creating an organisation. */
export async function createOrganizationKeys(ownerPublicKeyB64: string): Promise<OrganizationKeys> {
  const orgKey = SymmetricKey.generate();
  const pair = await makeWrappedKeyPair(orgKey);
  return { orgKey, key: wrapOrgKeyForMember(orgKey, ownerPublicKeyB64), ...pair };
}
