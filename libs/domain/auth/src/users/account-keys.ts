import { z } from 'zod';
import { badRequest, isWellFormedEncString } from '@keyhaven/contracts';
import { accountKeysJson } from './profile';
import type { User } from './user';

const publicKey = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')
  .max(10_000);
const wrappedPrivateKey = z
  .string()
  .max(20_000)
  .refine((v) => isWellFormedEncString(v) && v.startsWith('2.'), { message: 'must be a symmetric-encrypted key' });

/**
 * `POST api/accounts/keys`: a new account's key pair, the private key under the user key. The web
 * (trusted-device onboarding) sends the flat `publicKey` + `encryptedPrivateKey`; the SDK sends
 * `accountKeys` as well or instead.
 */
export const accountKeysRequestSchema = z.object({
  publicKey: publicKey.nullish(),
  encryptedPrivateKey: wrappedPrivateKey.nullish(),
  accountKeys: z
    .object({
      accountPublicKey: publicKey.nullish(),
      userKeyEncryptedAccountPrivateKey: wrappedPrivateKey.nullish(),
      publicKeyEncryptionKeyPair: z
        .object({ publicKey, wrappedPrivateKey, signedPublicKey: z.string().nullish() })
        .nullish(),
      signatureKeyPair: z.unknown().nullish(),
      securityState: z.unknown().nullish(),
    })
    .nullish(),
});
export type AccountKeysRequest = z.infer<typeof accountKeysRequestSchema>;

export interface AccountKeyPair {
  readonly publicKey: string;
  readonly encryptedPrivateKey: string;
}

/**
 * The one key pair the body carries. Signing keys (V2 account encryption) are refused rather than
 * dropped: Keyhaven stores no signature key pair, and a client told its V2 state was saved would
 * later find it missing.
 */
export function keyPairOf(body: AccountKeysRequest): AccountKeyPair {
  const v2 = body.accountKeys;
  if (v2?.signatureKeyPair || v2?.securityState || v2?.publicKeyEncryptionKeyPair?.signedPublicKey)
    throw badRequest('Signature key pairs are not supported by this server.');
  const pair = {
    publicKey: v2?.publicKeyEncryptionKeyPair?.publicKey ?? v2?.accountPublicKey ?? body.publicKey,
    encryptedPrivateKey:
      v2?.publicKeyEncryptionKeyPair?.wrappedPrivateKey ??
      v2?.userKeyEncryptedAccountPrivateKey ??
      body.encryptedPrivateKey,
  };
  if (!pair.publicKey || !pair.encryptedPrivateKey)
    throw badRequest('The public and encrypted private key are required.', {
      encryptedPrivateKey: ['The field is required.'],
    });
  // Both shapes at once must agree; otherwise which pair the client keeps is anyone's guess.
  if (
    (body.publicKey && body.publicKey !== pair.publicKey) ||
    (body.encryptedPrivateKey && body.encryptedPrivateKey !== pair.encryptedPrivateKey)
  )
    throw badRequest('The key pairs of the two body shapes differ.');
  return { publicKey: pair.publicKey, encryptedPrivateKey: pair.encryptedPrivateKey };
}

/** `accounts/keys` answers the account's keys as they now are (the clients' KeysResponse). */
export function keysJson(user: User): Record<string, unknown> {
  return {
    key: user.key || null,
    publicKey: user.publicKey,
    privateKey: user.privateKey,
    accountKeys: accountKeysJson(user),
    object: 'keys',
  };
}
