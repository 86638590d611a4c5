import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { startServer, type ServerProcess } from '@keyhaven/testing';
import { assertSameVault, keyhaven, seedInstance, vaultAsSeenByBw, type Seeded } from './data-safety-fixtures';

/**
 * `keyhaven backup` and `keyhaven restore` on the embedded all-in-one: the instance is seeded through the API and
 * the real bw CLI, stopped, backed up, and the backup restored into an empty data directory; a server there serves
 * the same vaults to the bw CLI. Damaged, truncated and wrongly-keyed files are refused and leave nothing behind;
 * an age recipient and identity work as a passphrase does; a backup that could not carry every blob exits 1.
 */
describe('backup and restore of an all-in-one', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-backup-'));
  const source = join(scratch, 'source');
  const target = join(scratch, 'target');
  const file = join(scratch, 'keyhaven.backup');
  const passphrase = join(scratch, 'passphrase');
  let server: ServerProcess | undefined;
  let seeded: Seeded;
  let original: Awaited<ReturnType<typeof vaultAsSeenByBw>>;

  before(async () => {
    writeFileSync(passphrase, 'a long backup passphrase of several words\n', { mode: 0o600 });
    server = await startServer({ dataDir: source });
    seeded = await seedInstance(server.http, server.url, server.caPath, scratch);
    original = await vaultAsSeenByBw(server.url, server.caPath, seeded.ownerEmail, scratch);
    await server.stop();
    server = undefined;
  });

  after(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('backup writes one encrypted file with every row and blob', async () => {
    const run = await keyhaven(['backup', '--out', file, '--passphrase-file', passphrase, '--json'], {
      DATA_DIR: source,
    });
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as {
      rows: number;
      blobs: number;
      tables: { table: string; rows: number }[];
    };
    assert.equal(summary.blobs, 1);
    assert.ok((summary.tables.find((t) => t.table === 'signing_key')?.rows ?? 0) > 0, 'the signing keys are in it');
    assert.ok(summary.rows > 10);
    const bytes = readFileSync(file);
    assert.ok(bytes.subarray(0, 32).toString('latin1').startsWith('age-encryption.org/v1'), 'an age file');
    assert.ok(!bytes.includes(Buffer.from(seeded.ownerEmail)), 'nothing readable in it');
  });

  test('a wrong passphrase, a modified byte or a truncated file is refused and restores nothing', async () => {
    const wrong = join(scratch, 'wrong');
    writeFileSync(wrong, 'not the passphrase\n');
    const refused = await keyhaven(['restore', file, '--passphrase-file', wrong], { DATA_DIR: target });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /wrong passphrase or identity/);

    const bytes = readFileSync(file);
    const tampered = Buffer.from(bytes);
    const at = Math.floor(bytes.length * 0.75);
    tampered[at] = (tampered[at] ?? 0) ^ 0x01;
    writeFileSync(join(scratch, 'tampered'), tampered);
    writeFileSync(join(scratch, 'truncated'), bytes.subarray(0, bytes.length - 100));
    for (const name of ['tampered', 'truncated']) {
      const run = await keyhaven(['restore', join(scratch, name), '--passphrase-file', passphrase], {
        DATA_DIR: target,
      });
      assert.equal(run.code, 1, `${name}: ${run.stderr}`);
      assert.match(run.stderr, /damaged, truncated or was modified/, name);
    }
    // The load of the damaged file was rolled back: the real restore below finds an empty database; and the
    // blob it streamed into the store (in part, or whole before the end failed) was removed again.
    assert.deepEqual(blobFiles(join(target, 'blobs')), [], 'no blob of a refused restore is left behind');
  });

  test('an age recipient: backup --recipient, restore --identity; another identity and usage errors are refused', async () => {
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const identityFile = join(scratch, 'identity.txt');
    // As age-keygen writes it: comments around the key.
    writeFileSync(identityFile, `# created: 2026-12-02\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
    const otherFile = join(scratch, 'other-identity.txt');
    writeFileSync(otherFile, `${await generateIdentity()}\n`, { mode: 0o600 });
    const toRecipient = join(scratch, 'recipient.backup');

    const backup = await keyhaven(['backup', '--out', toRecipient, '--recipient', recipient, '--json'], {
      DATA_DIR: source,
    });
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal((JSON.parse(backup.stdout) as { blobs: number }).blobs, 1);
    const verify = await keyhaven(['restore', toRecipient, '--identity', identityFile, '--verify', '--json'], {
      DATA_DIR: join(scratch, 'never-written'),
    });
    assert.equal(verify.code, 0, verify.stderr);
    const summary = JSON.parse(verify.stdout) as { verified: boolean; tables: { matches: boolean }[]; blobs: number };
    assert.equal(summary.verified, true);
    assert.ok(summary.tables.every((t) => t.matches));
    assert.equal(summary.blobs, 1);
    const other = await keyhaven(['restore', toRecipient, '--identity', otherFile, '--verify'], { DATA_DIR: target });
    assert.equal(other.code, 1, other.stderr);
    assert.match(other.stderr, /wrong passphrase or identity/);

    // Usage errors exit 2, before anything is opened or written.
    const keyless = await keyhaven(['backup', '--out', join(scratch, 'never.backup')], { DATA_DIR: source });
    assert.equal(keyless.code, 2, keyless.stderr);
    assert.match(keyless.stderr, /exactly one of --passphrase-file and --recipient/);
    const both = await keyhaven(['restore', file, '--passphrase-file', passphrase, '--identity', identityFile], {
      DATA_DIR: target,
    });
    assert.equal(both.code, 2, both.stderr);
    assert.ok(!existsSync(join(scratch, 'never.backup')));
  });

  test('restore --verify checks the backup in a scratch database and keeps nothing', async () => {
    const run = await keyhaven(['restore', file, '--passphrase-file', passphrase, '--verify', '--json'], {
      DATA_DIR: join(scratch, 'never-written'),
    });
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { verified: boolean; tables: { matches: boolean }[]; blobs: number };
    assert.equal(summary.verified, true);
    assert.ok(summary.tables.every((t) => t.matches));
    assert.equal(summary.blobs, 1);
  });

  test('restore into an empty data directory serves identical vaults to the bw CLI', async () => {
    const run = await keyhaven(['restore', file, '--passphrase-file', passphrase], { DATA_DIR: target });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /restore time: \d+\.\d\d s/);
    const again = await keyhaven(['restore', file, '--passphrase-file', passphrase], { DATA_DIR: target });
    assert.equal(again.code, 1, 'a second restore over restored data is refused');
    assert.match(again.stderr, /not empty/);

    server = await startServer({ dataDir: target });
    assertSameVault(original, await vaultAsSeenByBw(server.url, server.caPath, seeded.ownerEmail, scratch));
    const member = await vaultAsSeenByBw(server.url, server.caPath, seeded.memberEmail, scratch);
    assert.deepEqual(
      member.items.map((i) => (i as { name: string }).name),
      ['Member note', 'Shared router'],
      'the member still decrypts the shared item',
    );
  });

  test('a backup missing a referenced blob prints the summary, names it and exits 1', async () => {
    await server?.stop();
    server = undefined;
    const [blob] = blobFiles(join(source, 'blobs'));
    assert.ok(blob, 'the source has the attachment');
    rmSync(blob);
    const run = await keyhaven(
      ['backup', '--out', join(scratch, 'incomplete.backup'), '--passphrase-file', passphrase, '--json'],
      {
        DATA_DIR: source,
      },
    );
    assert.equal(run.code, 1, 'not a full success');
    const summary = JSON.parse(run.stdout) as { blobs: number; missingBlobs: string[] };
    assert.equal(summary.blobs, 0);
    assert.equal(summary.missingBlobs.length, 1);
    assert.match(run.stderr, /1 blob\(s\) were missing from the store/);
  });
});

/** The blob files under a local store's root (its temporary upload directory included), paths sorted. */
function blobFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}
