import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { EncStringType, parseEncString } from './enc-string-format';
import type { SymmetricKey } from './symmetric-key';

/** HMAC-SHA256 over iv ‖ ct: the authentication tag of type-2 EncStrings and attachment files. */
export function computeMac(macKey: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Buffer {
  return createHmac('sha256', macKey).update(iv).update(ciphertext).digest();
}

/** Encrypt-then-MAC with a fresh random IV. */
export function aesEncrypt(key: SymmetricKey, plaintext: Uint8Array): { iv: Buffer; ct: Buffer; mac: Buffer } {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key.encKey, iv);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ct, mac: computeMac(key.macKey, iv, ct) };
}

/** Verifies the MAC in constant time before touching the ciphertext (no padding oracle). */
export function aesDecrypt(key: SymmetricKey, iv: Uint8Array, ct: Uint8Array, mac: Uint8Array): Buffer {
  const expected = computeMac(key.macKey, iv, ct);
  if (mac.length !== expected.length || !timingSafeEqual(expected, mac)) {
    throw new Error('EncString MAC mismatch: wrong key or tampered data');
  }
  const decipher = createDecipheriv('aes-256-cbc', key.encKey, iv);
  return Buffer.concat([decipher.update(ct), decipher.final()]);
}

/** `"2." + b64(iv) + "|" + b64(ct) + "|" + b64(mac)`. Strings are encrypted as UTF-8. */
export function encryptType2(key: SymmetricKey, data: string | Uint8Array): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const { iv, ct, mac } = aesEncrypt(key, bytes);
  return `2.${iv.toString('base64')}|${ct.toString('base64')}|${mac.toString('base64')}`;
}

/** Decrypts a type-2 EncString. Other types are refused, as the clients refuse unauthenticated type 0. */
export function decryptType2(key: SymmetricKey, encString: string): Buffer {
  const parsed = parseEncString(encString);
  if (parsed.type !== EncStringType.AesCbc256_HmacSha256_B64 || parsed.iv === null || parsed.mac === null) {
    throw new Error(`expected a type-2 EncString, got type ${parsed.type}`);
  }
  return aesDecrypt(key, parsed.iv, parsed.data, parsed.mac);
}

export function decryptType2Utf8(key: SymmetricKey, encString: string): string {
  return decryptType2(key, encString).toString('utf8');
}
