/**
 * Backup and restore benchmark: an embedded store filled with synthetic vault rows (users and items of about
 * 1 KiB of ciphertext each, through the real schema), then `createBackup` (passphrase, scrypt) and
 * `restoreBackup` into an empty store, each timed and scaled to seconds per GiB of row data
 * (pg_total_relation_size of the tables). The floor is reading the same rows out (one pass through every
 * table, no encryption, no writes), in the same run.
 *
 *   npm run bench:backup                    # 20,000 items
 *   npm run bench:backup -- --items 100000
 *
 * Everything is in temporary directories, removed at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalBlobStore } from '@keyhaven/storage';
import { createBackup, openStoreSession, restoreBackup, tablesInLoadOrder } from '@keyhaven/runtime';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};

async function main(): Promise<void> {
  const items = arg('items', 20_000);
  const users = Math.max(1, Math.round(items / 500));
  const root = mkdtempSync(join(tmpdir(), 'keyhaven-bench-backup-'));
  const key = { passphrase: 'benchmark passphrase of some length' };
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
    const tables = await tablesInLoadOrder(session);
    const [size] = await session.query<{ bytes: string }>(
      `SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'`,
    );
    const bytes = Number(size?.bytes ?? 0);
    const floorStart = performance.now();
    for (const t of tables) await session.query(`SELECT row_to_json(x)::text FROM "${t}" x`);
    const floorMs = performance.now() - floorStart;

    const blobs = new LocalBlobStore(join(root, 'source', 'blobs'));
    const backup = await createBackup(session, blobs, join(root, 'bench.backup'), key);
    await session.close();

    const restored = await restoreBackup(join(root, 'bench.backup'), key, {
      dataDir: join(root, 'target'),
      blobs: new LocalBlobStore(join(root, 'target', 'blobs')),
    });
    const perGiB = (ms: number) => ((ms / 1000) * (1 << 30)) / bytes;
    const report = {
      items,
      users,
      rowDataMiB: +(bytes / 1048576).toFixed(1),
      backupFileMiB: +(backup.bytes / 1048576).toFixed(1),
      floorReadSeconds: +(floorMs / 1000).toFixed(2),
      backupSeconds: +(backup.ms / 1000).toFixed(2),
      restoreSeconds: +(restored.ms / 1000).toFixed(2),
      backupSecondsPerGiB: +perGiB(backup.ms).toFixed(1),
      restoreSecondsPerGiB: +perGiB(restored.ms).toFixed(1),
      backupVsFloor: +(backup.ms / floorMs).toFixed(1),
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
