import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createScratchDatabase,
  freePort,
  type HttpClient,
  queryDatabase,
  skipUnlessService,
  startServer,
  type ServerProcess,
} from '@keyhaven/testing';
import { BACKENDS, startAllInOne, type BackedServer } from './backends';
import { keyhaven } from './data-safety-fixtures';

/**
 * Scheduled backups (BACKUP_SCHEDULE, BACKUP_DIR, BACKUP_RETENTION, BACKUP_PASSPHRASE_FILE) on the
 * JobScheduler: every few seconds (cron with a seconds field) a verified backup appears under its final name,
 * old ones are pruned to the retention, and with two instances on one PostgreSQL database each fire time is
 * backed up by exactly one of them. Throughout, the serving event loop keeps turning: the backup's scrypt (seconds
 * of CPU at age's work factor) runs off it.
 */
const PASSPHRASE = 'scheduled backup passphrase, several words long';
const WRITTEN = /backup written and verified \(contents\): (\S+),/g;
const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-scheduled-backup-'));
const passphraseFile = join(scratch, 'passphrase');
writeFileSync(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });

after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function backupEnv(dir: string): Record<string, string> {
  return {
    // The job's 'backup written and verified' line is info.
    LOG_LEVEL: 'info',
    BACKUP_SCHEDULE: '*/3 * * * * *',
    BACKUP_DIR: dir,
    BACKUP_RETENTION: '2',
    BACKUP_PASSPHRASE_FILE: passphraseFile,
  };
}

function written(log: string): string[] {
  return [...log.matchAll(WRITTEN)].map((m) => m[1] ?? '');
}

/** Polls (bounded) until the logs show `count` scheduled backups. */
async function waitForBackups(logs: () => string, count: number): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (written(logs()).length < count) {
    if (Date.now() > deadline)
      assert.fail(`fewer than ${count} scheduled backups within 240 s:\n${logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Asks /alive over and over until stopped, and reports the longest wait between two answers. A backup that held the
 * event loop (the server's, which for PGlite is this process's too) shows as a gap of seconds; its due is well
 * under one.
 */
function probeAlive(http: HttpClient): () => Promise<number> {
  const stop = new AbortController();
  let longest = 0;
  // Held, not thrown, until the caller stops the probe: a rejection nobody awaits yet would end the run.
  let failure: Error | undefined;
  const probing = (async () => {
    let last = performance.now();
    while (!stop.signal.aborted) {
      const res = await http.get('/alive');
      if (res.status !== 200) throw new Error(`/alive answered ${res.status}`);
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      await new Promise((r) => setTimeout(r, 50));
    }
  })().catch((error: unknown) => {
    failure = error instanceof Error ? error : new Error(String(error));
  });
  return async () => {
    stop.abort();
    await probing;
    if (failure !== undefined) throw failure;
    return Math.round(longest);
  };
}

/**
 * The longest event-loop stall of a server process since the previous call, from its own metrics (prom-client's
 * monitorEventLoopDelay, reset at each scrape): unlike a probe from this process, which also hosts the embedded
 * case's server, it is not lengthened by anything this process does.
 */
async function eventLoopLagMaxMs(managementPort: number): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${managementPort}/metrics`)).text();
  const max = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(metrics)?.[1];
  assert.ok(max !== undefined, 'the server reports its event-loop lag');
  return Math.round(Number(max) * 1000);
}

/** The server stayed responsive while it wrote backups: /alive must answer within a second (README). */
function assertResponsive(longestMs: number, what: string): void {
  assert.ok(longestMs < 1000, `${what} ${longestMs} ms while backups were written`);
}

/**
 * The finished backups in `dir`, their retention, names and contents, as every test checks them. `cutShort`: the
 * last run was stopped midway by the shutdown, and may have left its temporary file (the next run removes it).
 */
async function assertKeptAndVerified(dir: string, log: string, label: string, cutShort = false): Promise<void> {
  assert.ok(!log.includes(PASSPHRASE), 'the passphrase is never logged');
  const all = readdirSync(dir).sort();
  const leftovers = all.filter((f) => /\.backup\.unverified(\.partial-\d+)?$/.test(f));
  assert.ok(leftovers.length <= (cutShort ? 1 : 0), `temporary files: ${leftovers.join(', ')}`);
  const files = all.filter((f) => !leftovers.includes(f));
  assert.equal(files.length, 2, `retention 2 keeps two files and leaves nothing temporary: ${files.join(', ')}`);
  assert.ok(
    files.every((f) => /^keyhaven-\d{8}T\d{6}Z\.backup$/.test(f)),
    files.join(', '),
  );
  const newest = join(dir, files[1] ?? '');
  assert.ok(written(log).includes(newest), 'the newest file is one the job logged');
  const verify = await keyhaven(['restore', newest, '--passphrase-file', passphraseFile, '--verify', '--json'], {
    DATA_DIR: join(scratch, `never-${label}`),
  });
  assert.equal(verify.code, 0, verify.stderr);
  const summary = JSON.parse(verify.stdout) as {
    verified: boolean;
    tables: { table: string; rows: number; matches: boolean }[];
  };
  assert.equal(summary.verified, true);
  assert.ok(summary.tables.every((t) => t.matches));
  assert.ok((summary.tables.find((t) => t.table === 'job_run')?.rows ?? 0) > 0, 'the rows are in it');
}

/**
 * The two cases run side by side (each mostly waits for fire times and scrypt in its own processes). PostgreSQL's
 * case is two instances: it proves what one instance does (verified files, retention) and that no fire time is
 * backed up twice, with the boots of one server fewer than a separate one-instance case.
 */
describe('scheduled backups', { concurrency: true }, async () => {
  const postgresSkip = await skipUnlessService('postgres');

  if (BACKENDS.includes('pglite')) {
    test('embedded: each fire time writes a verified backup, older ones are pruned to the retention', async (t) => {
      const dir = join(scratch, 'one-pglite');
      let server: BackedServer | undefined = await startAllInOne('pglite', backupEnv(dir));
      try {
        const longestGap = probeAlive(server.http);
        await waitForBackups(() => server?.output() ?? '', 3);
        const gap = await longestGap();
        t.diagnostic(`longest wait for /alive during backups: ${gap} ms`);
        assertResponsive(gap, '/alive went unanswered for');
        const stopped = server;
        server = undefined;
        await stopped.stop();
        // Read after the stop: a backup running then finishes (and logs) before the server is down.
        await assertKeptAndVerified(dir, stopped.output(), 'pglite');
      } finally {
        await server?.stop();
      }
    });
  }

  if (BACKENDS.includes('postgres')) {
    test(
      'PostgreSQL, two instances: each fire time is backed up by exactly one of them, verified and pruned',
      { skip: postgresSkip },
      async (t) => {
        const database = await createScratchDatabase();
        const dir = join(scratch, 'two-instances');
        const servers: ServerProcess[] = [];
        try {
          const env = { ...backupEnv(dir), DATABASE_URL: database.url };
          const managementPorts = [await freePort(), await freePort()];
          // Booted side by side; one that started is still stopped (finally) if the other did not.
          const started = await Promise.allSettled(
            managementPorts.map((port) => startServer({ env: { ...env, MANAGEMENT_PORT: String(port) } })),
          );
          for (const r of started) if (r.status === 'fulfilled') servers.push(r.value);
          for (const r of started) if (r.status === 'rejected') throw r.reason;
          const logs = (): string => servers.map((s) => s.output()).join('\n');
          // From here on: what booting cost is not the backups'.
          await Promise.all(managementPorts.map(eventLoopLagMaxMs));
          await waitForBackups(logs, 4);
          const lag = Math.max(...(await Promise.all(managementPorts.map(eventLoopLagMaxMs))));
          t.diagnostic(`longest event-loop stall of the instances during backups: ${lag} ms`);
          assertResponsive(lag, 'an instance stalled its event loop for');
          for (const s of servers) await s.stop();
          const files = written(logs());
          const [row] = await queryDatabase<{ runs: string; whole: boolean }>(
            database.url,
            `SELECT runs::text, (finished_at IS NOT NULL AND last_error IS NULL) AS whole FROM job_run WHERE name = 'scheduled-backup'`,
          );
          // A run the shutdown cut short is counted but wrote nothing (the next instance would run it again).
          const finished = Number(row?.runs) - (row?.whole === true ? 0 : 1);
          assert.equal(finished, files.length, 'every finished run wrote one backup, and only those');
          assert.equal(new Set(files).size, files.length, 'no fire time was backed up twice');
          await assertKeptAndVerified(dir, logs(), 'postgres', row?.whole !== true);
        } finally {
          for (const s of servers) {
            await s.stop('SIGKILL');
            s.cleanup();
          }
          await database.drop();
        }
      },
    );
  }
});
