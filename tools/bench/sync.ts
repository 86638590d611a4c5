/**
 * Sync benchmark: p50/p95 of `GET /api/sync` for a vault of N items, next to the floor measured in
 * the same run — reading the same rows from the same PostgreSQL database and serialising the same
 * JSON in this process, with no HTTP, auth or framework in between.
 *
 *   npm run bench:sync              # 1,000 and 10,000 items
 *   npm run bench:sync -- 500 2000  # other sizes
 *
 * Needs the PostgreSQL on 127.0.0.1 (TEST_DATABASE_URL); the server runs as the all-in-one on it.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { createScratchDatabase, startServer } from '@keyhaven/testing';
import { cipherFromRow, cipherJson, folderJson, type CipherRow } from '@keyhaven/domain-vault';
import { fillRealisticVault } from './realistic-vault';

const ROUNDS = 30;
const WARMUP = 3;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The same three reads the server makes, and the same serialisation, in one process. */
async function floorOnce(client: Pool, userId: string): Promise<number> {
  const started = performance.now();
  const [user, folders, ciphers] = await Promise.all([
    client.query<Record<string, unknown>>('SELECT * FROM app_user WHERE id = $1', [userId]),
    client.query<{ id: string; name: string; revision_date: Date }>(
      'SELECT id, name, revision_date FROM folder WHERE user_id = $1 ORDER BY creation_date',
      [userId],
    ),
    client.query<CipherRow>(
      `SELECT c.*, s.folder_id, s.favorite FROM cipher c
       LEFT JOIN cipher_user_state s ON s.cipher_id = c.id AND s.user_id = $1 WHERE c.user_id = $1`,
      [userId],
    ),
  ]);
  const body = JSON.stringify({
    profile: user.rows[0],
    folders: folders.rows.map((f) => folderJson({ id: f.id, name: f.name, revisionDate: new Date(f.revision_date) })),
    ciphers: ciphers.rows.map((r) => cipherJson(cipherFromRow(r))),
  });
  if (body.length === 0) throw new Error('empty');
  return performance.now() - started;
}

async function benchSize(size: number): Promise<void> {
  const database = await createScratchDatabase();
  const server = await startServer({ env: { DATABASE_URL: database.url, LOG_LEVEL: 'warn' } });
  // A small pool, as the server has: its three sync reads run side by side.
  const client = new Pool({ connectionString: database.url, max: 3 });
  try {
    const { session } = await fillRealisticVault(server.http, `bench-${size}@example.com`, size);
    const userId = (await client.query<{ id: string }>('SELECT id FROM app_user LIMIT 1')).rows[0]?.id ?? '';

    const http: number[] = [];
    let bytes = 0;
    for (let i = 0; i < WARMUP + ROUNDS; i++) {
      const started = performance.now();
      const res = await server.http.get('/api/sync?excludeDomains=true', { token: session.accessToken, parse: false });
      const elapsed = performance.now() - started;
      if (res.status !== 200) throw new Error(`sync failed: ${res.status}`);
      bytes = res.text.length;
      if (i >= WARMUP) http.push(elapsed);
    }
    const floor: number[] = [];
    for (let i = 0; i < WARMUP + ROUNDS; i++) {
      const elapsed = await floorOnce(client, userId);
      if (i >= WARMUP) floor.push(elapsed);
    }
    const fmt = (n: number): string => n.toFixed(1).padStart(8);
    const p50 = percentile(http, 50);
    const p95 = percentile(http, 95);
    const f50 = percentile(floor, 50);
    const f95 = percentile(floor, 95);
    process.stdout.write(
      `${String(size).padStart(6)} items ${(bytes / 1024 / 1024).toFixed(1).padStart(5)} MiB | GET /api/sync p50 ${fmt(p50)} ms p95 ${fmt(p95)} ms | ` +
        `floor p50 ${fmt(f50)} ms p95 ${fmt(f95)} ms | ratio p50 ${(p50 / f50).toFixed(2)}x\n`,
    );
  } finally {
    await client.end().catch(() => undefined);
    await server.stop('SIGKILL');
    server.cleanup();
    await database.drop();
  }
}

async function main(): Promise<void> {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  process.stdout.write(
    `sync benchmark: ${ROUNDS} sequential requests after ${WARMUP} warm-up, all-in-one on PostgreSQL\n`,
  );
  for (const size of sizes.length > 0 ? sizes : [1000, 10000]) await benchSize(size);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
