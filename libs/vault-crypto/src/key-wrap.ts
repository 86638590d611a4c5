import { decryptType2, encryptType2 } from './enc-string';
import { SymmetricKey } from './symmetric-key';

/** A 64-byte key as a type-2 EncString under another key (user key under stretched key, item key, file key…). */
export function wrapSymmetricKey(wrappingKey: SymmetricKey, key: SymmetricKey): string {
  return encryptType2(wrappingKey, key.toBytes());
}

export function unwrapSymmetricKey(wrappingKey: SymmetricKey, wrapped: string): SymmetricKey {
  return SymmetricKey.fromBytes(decryptType2(wrappingKey, wrapped));
}

/** A fresh per-item (cipher or attachment) key and its wrap under the user or organisation key. */
export function generateItemKey(wrappingKey: SymmetricKey): { key: SymmetricKey; wrapped: string } {
  const key = SymmetricKey.generate();
  return { key, wrapped: wrapSymmetricKey(wrappingKey, key) };
}
