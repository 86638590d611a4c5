import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadableStream } from 'node:stream/web';
import { Decrypter, Encrypter } from 'age-encryption';
import { decryptFile, encryptStream } from './age-stream';

const PASSPHRASE = 'correct horse battery staple, a scheduled backup passphrase';

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of chunks) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

/** The longest the event loop went without running a 10 ms timer while `work` ran. */
async function maxLagDuring(work: () => Promise<void>): Promise<number> {
  let max = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last - 10);
    last = now;
  }, 10);
  try {
    await work();
  } finally {
    clearInterval(probe);
  }
  return Math.round(Math.max(max, performance.now() - last - 10));
}

void describe('age passphrase encryption', () => {
  void test('encrypting and decrypting with a passphrase keeps the event loop turning (scrypt runs off it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhaven-age-lag-'));
    try {
      const plaintext = Buffer.alloc(2_000_000, 7);
      // In 64 KiB pieces, as a backup's records and blobs arrive: what runs between two turns stays small.
      const pieces = function* (): Generator<Buffer> {
        for (let at = 0; at < plaintext.length; at += 65_536) yield plaintext.subarray(at, at + 65_536);
      };
      const file = join(dir, 'b.age');
      await import('age-encryption'); // loading the library once is not what is measured
      // Scrypt at age's work factor (2^18) alone takes seconds of CPU; on the event loop that is seconds in
      // which the server answers nothing. Off it, the lag stays at what the streaming itself costs.
      const lag = await maxLagDuring(async () => {
        const encrypted = await encryptStream(ReadableStream.from(pieces()), { passphrase: PASSPHRASE });
        writeFileSync(file, await collect(encrypted));
        assert.ok((await collect(decryptFile(file, { passphrase: PASSPHRASE }))).equals(plaintext));
      });
      assert.ok(lag < 1000, `the event loop stalled for ${lag} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('the format is age scrypt: files of the age library and ours read each other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhaven-age-compat-'));
    try {
      const plaintext = Buffer.alloc(200_000, 3);
      const ours = join(dir, 'ours.age');
      writeFileSync(
        ours,
        await collect(await encryptStream(ReadableStream.from([plaintext]), { passphrase: PASSPHRASE })),
      );
      const header = readFileSync(ours, 'latin1').split('\n').slice(0, 2).join('\n');
      assert.match(header, /^age-encryption\.org\/v1\n-> scrypt [A-Za-z0-9+/]{22} 18$/);
      const decrypter = new Decrypter();
      decrypter.addPassphrase(PASSPHRASE);
      assert.ok(Buffer.from(await decrypter.decrypt(readFileSync(ours))).equals(plaintext));

      const encrypter = new Encrypter();
      encrypter.setPassphrase(PASSPHRASE);
      encrypter.setScryptWorkFactor(12); // any work factor the stanza names is honoured; a low one keeps this quick
      const theirs = join(dir, 'theirs.age');
      writeFileSync(theirs, await encrypter.encrypt(plaintext));
      assert.ok((await collect(decryptFile(theirs, { passphrase: PASSPHRASE }))).equals(plaintext));
      await assert.rejects(collect(decryptFile(theirs, { passphrase: 'another passphrase' })), /wrong passphrase/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
