import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { BlobUrlSigner } from './blob-url-signer';

void describe('BlobUrlSigner', () => {
  const key = randomBytes(32);
  const signer = new BlobUrlSigner(key);
  const now = 1_800_000_000_000;

  it('accepts its own token for the same path until it expires', () => {
    const token = signer.sign('attachments/c1/a1', 60_000, now);
    assert.equal(signer.verify('attachments/c1/a1', token, now), true);
    assert.equal(signer.verify('attachments/c1/a1', token, now + 59_000), true);
    assert.equal(signer.verify('attachments/c1/a1', token, now + 60_000), false, 'expired');
  });

  it('another instance with the same key accepts it; another key does not', () => {
    const token = signer.sign('sends/s1/f1', 60_000, now);
    assert.equal(new BlobUrlSigner(Buffer.from(key)).verify('sends/s1/f1', token, now), true);
    assert.equal(new BlobUrlSigner(randomBytes(32)).verify('sends/s1/f1', token, now), false);
  });

  it('refuses another path, a moved expiry, a tampered or malformed token', () => {
    const token = signer.sign('attachments/c1/a1', 60_000, now);
    const [expires, mac] = token.split('.') as [string, string];
    assert.equal(signer.verify('attachments/c1/a2', token, now), false);
    assert.equal(signer.verify('attachments/c1/a1', `${Number(expires) + 3600}.${mac}`, now), false);
    const flipped = `${mac.slice(0, -2)}${mac.endsWith('A') ? 'B' : 'A'}${mac.slice(-1)}`;
    assert.equal(signer.verify('attachments/c1/a1', `${expires}.${flipped}`, now), false);
    for (const bad of [undefined, null, '', 'x', expires, `${expires}.`, `-1.${mac}`, `${token}x`]) {
      assert.equal(signer.verify('attachments/c1/a1', bad, now), false, String(bad));
    }
  });

  it('refuses short keys and non-positive lifetimes', () => {
    assert.throws(() => new BlobUrlSigner(randomBytes(16)), RangeError);
    assert.throws(() => signer.sign('a/b', 0), RangeError);
  });
});
