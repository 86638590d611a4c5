import { aesDecrypt, aesEncrypt, encryptType2 } from './enc-string';
import { EncStringType } from './enc-string-format';
import { generateItemKey } from './key-wrap';
import type { SymmetricKey } from './symmetric-key';

const HEADER_BYTES = 1 + 16 + 32; // type, iv, mac

/** An attachment body as stored: `0x02 ‖ iv16 ‖ mac32 ‖ ct`, the MAC covering iv ‖ ct. */
export function encryptAttachment(fileKey: SymmetricKey, data: Uint8Array): Buffer {
  const { iv, ct, mac } = aesEncrypt(fileKey, data);
  return Buffer.concat([Buffer.of(EncStringType.AesCbc256_HmacSha256_B64), iv, mac, ct]);
}

export function decryptAttachment(fileKey: SymmetricKey, blob: Uint8Array): Buffer {
  const buf = Buffer.from(blob);
  if (buf.length < HEADER_BYTES + 16 || buf[0] !== EncStringType.AesCbc256_HmacSha256_B64) {
    throw new Error('not a type-2 encrypted attachment');
  }
  return aesDecrypt(fileKey, buf.subarray(1, 17), buf.subarray(HEADER_BYTES), buf.subarray(17, HEADER_BYTES));
}

export interface PreparedAttachment {
  /** The attachment request fields (`POST ciphers/{id}/attachment/v2`). */
  request: { key: string; fileName: string; fileSize: number };
  fileKey: SymmetricKey;
  encryptedData: Buffer;
}

/**
 * Encrypts a file as a client uploads it: a fresh file key wrapped under the cipher's key (item, org or user
 * key), the file name type 2 under that same cipher key, and `fileSize` the size of the encrypted body.
 */
export function prepareAttachment(cipherKey: SymmetricKey, fileName: string, data: Uint8Array): PreparedAttachment {
  const { key: fileKey, wrapped } = generateItemKey(cipherKey);
  const encryptedData = encryptAttachment(fileKey, data);
  return {
    request: { key: wrapped, fileName: encryptType2(cipherKey, fileName), fileSize: encryptedData.length },
    fileKey,
    encryptedData,
  };
}
