import { randomBytes, timingSafeEqual } from 'node:crypto';

const HALF = 32;

/** A Bitwarden AES-256-CBC + HMAC-SHA256 key: 64 bytes on the wire, encryption key first, then MAC key. */
export class SymmetricKey {
  private constructor(
    readonly encKey: Buffer,
    readonly macKey: Buffer,
  ) {}

  static fromBytes(bytes: Uint8Array): SymmetricKey {
    if (bytes.length !== HALF * 2) throw new Error(`a symmetric key is 64 bytes, got ${bytes.length}`);
    // Copy, so later changes to the caller's buffer cannot alter the key.
    const copy = Buffer.from(bytes);
    return new SymmetricKey(copy.subarray(0, HALF), copy.subarray(HALF));
  }

  static fromParts(encKey: Uint8Array, macKey: Uint8Array): SymmetricKey {
    return SymmetricKey.fromBytes(Buffer.concat([encKey, macKey]));
  }

  static fromB64(b64: string): SymmetricKey {
    return SymmetricKey.fromBytes(Buffer.from(b64, 'base64'));
  }

  static generate(): SymmetricKey {
    return SymmetricKey.fromBytes(randomBytes(HALF * 2));
  }

  toBytes(): Buffer {
    return Buffer.concat([this.encKey, this.macKey]);
  }

  toB64(): string {
    return this.toBytes().toString('base64');
  }

  equals(other: SymmetricKey): boolean {
    return timingSafeEqual(this.toBytes(), other.toBytes());
  }
}
