import { createHmac, timingSafeEqual } from 'node:crypto';

/** Shortest key accepted: the HMAC-SHA256 block gives no more than 32 bytes of strength anyway. */
const MIN_KEY_BYTES = 32;
const TOKEN = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

/**
 * Short-lived, anonymous download (or upload) links for blobs: a token binding a path to an expiry,
 * `<expiry seconds>.<base64url HMAC-SHA256(path, expiry)>`. The key must be the same on every instance
 * (a server secret kept in the database), so a link minted by one instance works on all of them;
 * nothing is stored per link. Compared in constant time.
 */
export class BlobUrlSigner {
  constructor(private readonly key: Buffer) {
    if (key.length < MIN_KEY_BYTES) throw new RangeError(`BlobUrlSigner needs a key of ${MIN_KEY_BYTES}+ bytes`);
  }

  /** A token for `path` valid for ttlMs from now (rounded up to the next second). */
  sign(path: string, ttlMs: number, now = Date.now()): string {
    if (!(Number.isFinite(ttlMs) && ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${ttlMs}`);
    const expires = Math.ceil((now + ttlMs) / 1000);
    return `${expires}.${this.mac(path, expires).toString('base64url')}`;
  }

  /** True when the token was signed for exactly this path and has not expired. */
  verify(path: string, token: string | undefined | null, now = Date.now()): boolean {
    const match = typeof token === 'string' ? TOKEN.exec(token) : null;
    if (!match?.[1] || !match[2]) return false;
    const expires = Number(match[1]);
    const given = Buffer.from(match[2], 'base64url');
    const expected = this.mac(path, expires);
    // Checked after the comparison, so an expired and a forged token take the same time.
    const authentic = given.length === expected.length && timingSafeEqual(given, expected);
    return authentic && expires * 1000 > now;
  }

  private mac(path: string, expires: number): Buffer {
    return createHmac('sha256', this.key).update(`${path}\n${expires}`).digest();
  }
}
