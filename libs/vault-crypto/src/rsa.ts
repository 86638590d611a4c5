import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  privateDecrypt,
  publicEncrypt,
} from 'node:crypto';
import { promisify } from 'node:util';
import { decryptType2, encryptType2 } from './enc-string';
import { EncStringType, parseEncString } from './enc-string-format';
import type { SymmetricKey } from './symmetric-key';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface RsaKeyPair {
  /** b64 of the DER SubjectPublicKeyInfo, the form the API carries. */
  publicKey: string;
  /** DER PKCS#8. */
  privateKey: Buffer;
}

export async function generateRsaKeyPair(): Promise<RsaKeyPair> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return { publicKey: publicKey.toString('base64'), privateKey };
}

/** The b64 SPKI public key that belongs to a PKCS#8 private key. */
export function publicKeyFromPrivateKey(privateKeyDer: Uint8Array): string {
  const privateKey = createPrivateKey({ key: Buffer.from(privateKeyDer), format: 'der', type: 'pkcs8' });
  return createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
}

/** `"4." + b64(RSA-OAEP-SHA1(data))`, the format clients use to share keys with members. */
export function encryptType4(publicKeyB64: string, data: Uint8Array): string {
  const key = createPublicKey({ key: Buffer.from(publicKeyB64, 'base64'), format: 'der', type: 'spki' });
  const ct = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, data);
  return `4.${ct.toString('base64')}`;
}

/** Decrypts type 4 (OAEP-SHA1) or type 3 (OAEP-SHA256). The MAC-carrying types 5/6 are deprecated and refused. */
export function decryptRsa(privateKeyDer: Uint8Array, encString: string): Buffer {
  const parsed = parseEncString(encString);
  let oaepHash: string;
  if (parsed.type === EncStringType.Rsa2048_OaepSha1_B64) oaepHash = 'sha1';
  else if (parsed.type === EncStringType.Rsa2048_OaepSha256_B64) oaepHash = 'sha256';
  else throw new Error(`expected an RSA EncString (type 3 or 4), got type ${parsed.type}`);
  const key = createPrivateKey({ key: Buffer.from(privateKeyDer), format: 'der', type: 'pkcs8' });
  return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, parsed.data);
}

/**
 * A fresh key pair with the private key type 2 under `wrappingKey`: the user key for a user's pair (as sent at
 * registration), the organisation key for an organisation's.
 */
export async function makeWrappedKeyPair(
  wrappingKey: SymmetricKey,
): Promise<RsaKeyPair & { encryptedPrivateKey: string }> {
  const pair = await generateRsaKeyPair();
  return { ...pair, encryptedPrivateKey: encryptType2(wrappingKey, pair.privateKey) };
}

export function decryptPrivateKey(userKey: SymmetricKey, encryptedPrivateKey: string): Buffer {
  return decryptType2(userKey, encryptedPrivateKey);
}
