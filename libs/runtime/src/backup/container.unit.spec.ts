import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ReadableStream } from 'node:stream/web';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { decryptFile, encryptStream } from './age-stream';
import {
  BackupFormatError,
  ContainerWriter,
  drain,
  FORMAT_VERSION,
  readContainer,
  type ContainerRecord,
} from './container';

function sample(): Buffer {
  const w = new ContainerWriter();
  return Buffer.concat([
    w.start(),
    w.schema({ createdAt: '2026-01-01T00:00:00.000Z', source: 'pglite', migrations: ['A1', 'B2'] }),
    w.record({ t: 'rows', table: 'app_user', n: 2 }, Buffer.from('[{"id":1},{"id":2,"note":"line\\nbreak"}]')),
    w.record({ t: 'blob', key: 'attachments/c/a' }, Buffer.from([0, 10, 255, 10])),
    w.manifest({
      format: FORMAT_VERSION,
      createdAt: '2026-01-01T00:00:00.000Z',
      source: 'pglite',
      migrations: ['A1', 'B2'],
      tables: [{ table: 'app_user', rows: 2, checksum: '1' }],
      sequences: [],
      blobs: [],
    }),
  ]);
}

async function readAll(bytes: Buffer, chunk = 7): Promise<ContainerRecord[]> {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const out: ContainerRecord[] = [];
  for await (const record of readContainer(Readable.from(parts))) out.push(record);
  return out;
}

void describe('backup container', () => {
  void test('records come back as written, whatever the chunking', async () => {
    const records = await readAll(sample());
    assert.deepEqual(
      records.map((r) => r.header.t),
      ['schema', 'rows', 'blob', 'manifest'],
    );
    const rows = records[1];
    assert.ok(rows && 'json' in rows);
    assert.deepEqual(JSON.parse(rows.json), [{ id: 1 }, { id: 2, note: 'line\nbreak' }]);
    const blob = records[2];
    assert.ok(blob && 'chunks' in blob);
    // readAll asked for the next record without reading the body: it was skipped (and still checked).
    assert.deepEqual(blob.header, { t: 'blob', key: 'attachments/c/a', len: 4 });
  });

  void test('a blob record streamed in pieces is byte for byte the record written whole (old files read alike)', () => {
    const whole = new ContainerWriter();
    const streamed = new ContainerWriter();
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    const a = Buffer.concat([whole.start(), whole.record({ t: 'blob', key: 'sends/s/f' }, body)]);
    const b = Buffer.concat([
      streamed.start(),
      streamed.blobStart('sends/s/f', body.length),
      streamed.piece(body.subarray(0, 300)),
      streamed.piece(body.subarray(300)),
    ]);
    assert.ok(a.equals(b));
    const manifest = { format: FORMAT_VERSION, createdAt: '', source: 'pglite' as const, migrations: [] };
    const rest = { tables: [], sequences: [], blobs: [] };
    assert.ok(whole.manifest({ ...manifest, ...rest }).equals(streamed.manifest({ ...manifest, ...rest })));
  });

  void test('a blob body comes out piece by piece as the input arrives, never joined', async () => {
    const w = new ContainerWriter();
    const body = Buffer.alloc(10 * 4096, 7);
    const bytes = Buffer.concat([
      w.start(),
      w.blobStart('attachments/c/big', body.length),
      w.piece(body),
      w.manifest({
        format: FORMAT_VERSION,
        createdAt: '',
        source: 'pglite',
        migrations: [],
        tables: [],
        sequences: [],
        blobs: [],
      }),
    ]);
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 4096) parts.push(bytes.subarray(i, i + 4096));
    let pieces = 0;
    let total = 0;
    for await (const record of readContainer(Readable.from(parts))) {
      if (!('chunks' in record)) continue;
      for await (const piece of record.chunks) {
        assert.ok(piece.length <= 4096, `a piece of ${piece.length} bytes: no larger than an input chunk`);
        assert.ok(piece.every((b) => b === 7));
        pieces += 1;
        total += piece.length;
      }
    }
    assert.equal(total, body.length);
    assert.ok(pieces >= 10);
    // Cut inside the body: refused as truncated, by the consumer reading it.
    const cut = readContainer(Readable.from([bytes.subarray(0, 20_000)]));
    await assert.rejects(async () => {
      for await (const record of cut) if ('chunks' in record) await drain(record.chunks);
    }, /ends in the middle of blob attachments\/c\/big \(truncated\)/);
  });

  void test('a truncated, altered or foreign container is refused', async () => {
    const bytes = sample();
    await assert.rejects(readAll(bytes.subarray(0, bytes.length - 3)), BackupFormatError);
    await assert.rejects(readAll(bytes.subarray(0, 60)), /truncated/);
    const altered = Buffer.from(bytes);
    const at = altered.indexOf('line');
    altered[at] = 'L'.charCodeAt(0);
    await assert.rejects(readAll(altered), /manifest checksum does not match/);
    await assert.rejects(readAll(Buffer.from('hello world, not a backup at all')), /not a Keyhaven backup/);
    await assert.rejects(readAll(Buffer.concat([bytes, Buffer.from('x')])), /after the manifest/);
  });

  void test('age: an X25519 recipient round-trips; another identity or a damaged file is refused clearly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhaven-age-'));
    try {
      const identity = await generateIdentity();
      const recipient = await identityToRecipient(identity);
      const plaintext = Buffer.concat([sample(), Buffer.alloc(150_000, 1)]);
      const encrypted = await encryptStream(ReadableStream.from([plaintext]), { recipient });
      const parts: Buffer[] = [];
      for await (const part of encrypted) parts.push(part as Buffer);
      const file = join(dir, 'b.age');
      writeFileSync(file, Buffer.concat(parts));
      const back: Buffer[] = [];
      for await (const part of decryptFile(file, { identity })) back.push(Buffer.from(part));
      assert.ok(Buffer.concat(back).equals(plaintext));

      const decryptAll = async (key: Parameters<typeof decryptFile>[1], path = file) => {
        for await (const part of decryptFile(path, key)) assert.ok(part);
      };
      await assert.rejects(decryptAll({ identity: await generateIdentity() }), /wrong passphrase or identity/);
      const damaged = readFileSync(file);
      damaged[damaged.length - 70_000] = (damaged[damaged.length - 70_000] ?? 0) ^ 1;
      writeFileSync(join(dir, 'damaged'), damaged);
      await assert.rejects(decryptAll({ identity }, join(dir, 'damaged')), /damaged, truncated or was modified/);
      writeFileSync(join(dir, 'short'), readFileSync(file).subarray(0, 65_536 + 200));
      await assert.rejects(decryptAll({ identity }, join(dir, 'short')), /damaged, truncated or was modified/);
      await assert.rejects(
        encryptStream(ReadableStream.from([plaintext]), { recipient: 'not-a-key' }),
        /must be an age public key/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
