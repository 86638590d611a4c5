import crypto from 'node:crypto';

type CipherFactory = (algorithm: string, key: Buffer, iv: Buffer) => unknown;

/** 8-byte DES key/iv → 16 bytes for AES; deterministic, so tokens still decrypt. */
const widen = (bytes: Buffer): Buffer => Buffer.concat([bytes, bytes]);

/**
 * s3rver 3.7 encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node ≥ 17) refuses,
 * so every truncated listing fails with a 500. s3rver runs in the test process, so swap its 'des'
 * calls for AES there. Test-only; returns a function that restores the originals.
 */
export function patchS3rverContinuationTokens(): () => void {
  const originals = { createCipheriv: crypto.createCipheriv, createDecipheriv: crypto.createDecipheriv };
  for (const name of ['createCipheriv', 'createDecipheriv'] as const) {
    const original = originals[name] as unknown as CipherFactory;
    const patched: CipherFactory = (algorithm, key, iv) =>
      algorithm === 'des' ? original('aes-128-cbc', widen(key), widen(iv)) : original(algorithm, key, iv);
    Object.defineProperty(crypto, name, { value: patched, configurable: true, writable: true });
  }
  return () => {
    for (const [name, value] of Object.entries(originals)) {
      Object.defineProperty(crypto, name, { value, configurable: true, writable: true });
    }
  };
}
