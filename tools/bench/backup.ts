/**
 * Backup and restore benchmark: an embedded store filled with synthetic vault rows (users and items of about
 * 1 KiB of ciphertext each, through the real schema), then `createBackup` and `restoreBackup` into an empty
 * store, each in a child process of its own so its peak RSS (getrusage maxrss) is its alone, timed and scaled to
 * seconds per GiB of row data (pg_total_relation_size of the tables). The floor is reading the same rows out (one
 * pass through every table, no encryption, no writes), in the same run.
 *
 *   npm run bench:backup                          # 20,000 items, passphrase (scrypt)
 *   npm run bench:backup -- --items 100000
 *   npm run bench:backup -- --blob-mib 200        # plus one attachment of 200 MiB
 *   npm run bench:backup -- --blob-mib 200 --recipient   # X25519 recipient: no scrypt in the peak RSS
 *
 * A passphrase costs age's scrypt (N = 2^18, 256 MiB of working memory) once per backup and once per restore,
 * which sets the floor of the peak RSS; `--recipient` shows the rest. With `--blob-mib` the times (and the per-GiB
 * figures, which divide by the rows alone) include the blob. Everything is in temporary directories, removed at
 * the end.
 */
import { execFile } from 'node:child_process';
import { createCipheriv, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { LocalBlobStore } from '@keyhaven/storage';
import { createBackup, openStoreSession, restoreBackup, tablesInLoadOrder, type StoreSession } from '@keyhaven/runtime';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const MiB = 1048576;
const PASSPHRASE = 'benchmark passphrase of some length';
const maxRssMiB = (): number => +(process.resourceUsage().maxRSS / 1024).toFixed(0);

/** One phase, run in a child (`--phase backup|restore --root DIR`); prints its timing and peak RSS as JSON. */
async function phase(name: string, root: string): Promise<void> {
  const identity = process.env.BENCH_AGE_IDENTITY;
  const rssBefore = maxRssMiB();
  if (name === 'backup') {
    const recipient = identity ? await identityToRecipient(identity) : undefined;
    const session = await openStoreSession({ dataDir: join(root, 'source') });
    const blobs = new LocalBlobStore(join(root, 'source', 'blobs'));
    const openedRss = maxRssMiB();
    const out = await createBackup(
      session,
      blobs,
      join(root, 'bench.backup'),
      recipient ? { recipient } : { passphrase: PASSPHRASE },
    );
    await session.close();
    console.log(JSON.stringify({ ms: out.ms, bytes: out.bytes, rssBefore, openedRss, peakRss: maxRssMiB() }));
  } else {
    const out = await restoreBackup(join(root, 'bench.backup'), identity ? { identity } : { passphrase: PASSPHRASE }, {
      dataDir: join(root, 'target'),
      blobs: new LocalBlobStore(join(root, 'target', 'blobs')),
    });
    console.log(JSON.stringify({ ms: out.ms, blobBytes: out.blobBytes, rssBefore, peakRss: maxRssMiB() }));
  }
}

async function inChild<T>(name: string, root: string, env: Record<string, string>): Promise<T> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...process.execArgv, process.argv[1] ?? '', '--phase', name, '--root', root],
    { env: { ...process.env, ...env }, maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T;
}

/** One validated attachment of `mib` MiB of pseudo-random bytes, written in 64 KiB pieces. */
async function addAttachment(session: StoreSession, root: string, mib: number): Promise<void> {
  const size = mib * MiB;
  const [user] = await session.query<{ id: string }>('SELECT id FROM app_user LIMIT 1');
  const cipher = randomUUID();
  await session.query(
    `INSERT INTO cipher (id, user_id, type, data, creation_date, revision_date)
     VALUES ($1, $2, 1, '{"name":"2.large"}'::jsonb, now(), now())`,
    [cipher, user?.id],
  );
  await session.query(
    `INSERT INTO attachment (id, cipher_id, file_name, size, validated, creation_date)
     VALUES ('large', $1, '2.name', $2, true, now())`,
    [cipher, size],
  );
  const keystream = createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16, 2));
  const zeros = Buffer.alloc(64 * 1024);
  const body = Readable.from(
    (function* () {
      for (let at = 0; at < size; at += zeros.length) yield keystream.update(zeros);
    })(),
  );
  await new LocalBlobStore(join(root, 'source', 'blobs')).put(`attachments/${cipher}/large`, body, size);
}

async function main(): Promise<void> {
  const phaseAt = process.argv.indexOf('--phase');
  if (phaseAt >= 0) {
    await phase(process.argv[phaseAt + 1] ?? '', process.argv[process.argv.indexOf('--root') + 1] ?? '');
    return;
  }
  const items = arg('items', 20_000);
  const blobMib = arg('blob-mib', 0);
  const identity = process.argv.includes('--recipient') ? await generateIdentity() : undefined;
  const users = Math.max(1, Math.round(items / 500));
  const root = mkdtempSync(join(tmpdir(), 'keyhaven-bench-backup-'));
  try {
    const source = { dataDir: join(root, 'source') };
    const session = await openStoreSession(source);
    await session.query(
      `INSERT INTO app_user (id, email, master_password_hash, key, kdf, kdf_iterations, security_stamp, api_key,
                             creation_date, revision_date, account_revision_date)
       SELECT gen_random_uuid(), 'user' || g || '@example.com', md5(g::text), repeat('k', 200), 0, 600000,
              md5(g::text), md5(g::text), now(), now(), now()
         FROM generate_series(1, $1::int) g`,
      [users],
    );
    await session.query(
      `INSERT INTO cipher (id, user_id, type, data, creation_date, revision_date)
       SELECT gen_random_uuid(), u.id, 1,
              jsonb_build_object('name', '2.' || repeat(md5(g::text || 'n'), 2),
                                 'login', jsonb_build_object('password', '2.' || repeat(md5(random()::text), 19))),
              now(), now()
         FROM generate_series(1, $1::int) g
         JOIN LATERAL (SELECT id FROM app_user OFFSET (g % $2::int) LIMIT 1) u ON true`,
      [items, users],
    );
    if (blobMib > 0) await addAttachment(session, root, blobMib);
    const tables = await tablesInLoadOrder(session);
    const [size] = await session.query<{ bytes: string }>(
      `SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'`,
    );
    const bytes = Number(size?.bytes ?? 0);
    const floorStart = performance.now();
    for (const t of tables) await session.query(`SELECT row_to_json(x)::text FROM "${t}" x`);
    const floorMs = performance.now() - floorStart;
    await session.close();

    const env: Record<string, string> = identity ? { BENCH_AGE_IDENTITY: identity } : {};
    const backup = await inChild<{ ms: number; bytes: number; openedRss: number; peakRss: number }>(
      'backup',
      root,
      env,
    );
    const restored = await inChild<{ ms: number; blobBytes: number; peakRss: number }>('restore', root, env);
    const perGiB = (ms: number) => ((ms / 1000) * (1 << 30)) / bytes;
    const report = {
      items,
      users,
      key: identity ? 'recipient' : 'passphrase',
      blobMiB: blobMib,
      rowDataMiB: +(bytes / MiB).toFixed(1),
      backupFileMiB: +(backup.bytes / MiB).toFixed(1),
      floorReadSeconds: +(floorMs / 1000).toFixed(2),
      backupSeconds: +(backup.ms / 1000).toFixed(2),
      restoreSeconds: +(restored.ms / 1000).toFixed(2),
      backupSecondsPerGiB: +perGiB(backup.ms).toFixed(1),
      restoreSecondsPerGiB: +perGiB(restored.ms).toFixed(1),
      backupVsFloor: +(backup.ms / floorMs).toFixed(1),
      backupRssAfterOpenMiB: backup.openedRss,
      backupPeakRssMiB: backup.peakRss,
      restorePeakRssMiB: restored.peakRss,
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
