import { createHmac } from 'node:crypto';

const SHA256_BYTES = 32;

function toBytes(value: string | Uint8Array): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
}

/**
 * HKDF-Expand (RFC 5869 §2.3) with HMAC-SHA256. Bitwarden stretches the master key with Expand alone, using the
 * master key as the PRK; node's hkdf always runs Extract first, so Expand is written out here.
 */
export function hkdfExpand(prk: Uint8Array, info: string | Uint8Array, length: number): Buffer {
  if (!Number.isInteger(length) || length < 1 || length > 255 * SHA256_BYTES) {
    throw new RangeError(`HKDF-Expand length must be 1..${255 * SHA256_BYTES}`);
  }
  const infoBytes = toBytes(info);
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; blocks.length * SHA256_BYTES < length; i++) {
    previous = createHmac('sha256', prk).update(previous).update(infoBytes).update(Buffer.of(i)).digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** HKDF-Extract (RFC 5869 §2.2): PRK = HMAC-SHA256(salt, IKM). */
export function hkdfExtract(salt: string | Uint8Array, ikm: Uint8Array): Buffer {
  return createHmac('sha256', toBytes(salt)).update(ikm).digest();
}

/** Full HKDF-SHA256 (Extract then Expand), as used for Send keys. */
export function hkdf(ikm: Uint8Array, salt: string | Uint8Array, info: string | Uint8Array, length: number): Buffer {
  return hkdfExpand(hkdfExtract(salt, ikm), info, length);
}
