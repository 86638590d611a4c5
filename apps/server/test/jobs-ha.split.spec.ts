import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { Client } from 'pg';
import { requireServices, type ServerProcess } from '@keyhaven/testing';
import { startSplitApps, type SplitApps } from './split-stack';

const PERIOD_S = 2;
/**
 * Every exclusive job the api service schedules, each on the short period above. (Event retention and
 * the SIEM streams run on the same scheduler in the events processor; libs/db's job-scheduler.spec
 * covers the scheduler itself on both stores.)
 */
const JOBS = ['send-deletion', 'attachment-cleanup', 'emergency-access'];

interface JobRow {
  name: string;
  slot: number;
  runs: number;
  owner: string;
  finished: boolean;
}

/**
 * The scheduler with three api instances on one PostgreSQL: each job runs exactly once per period
 * (counted in `job_run`: the runs grow by as many periods as went by, never more, never fewer), keeps
 * doing so after the instance that ran it last is killed with SIGKILL, and a run left unfinished by a
 * dead instance is run again at the next check.
 */
describe('scheduled jobs across three api instances', () => {
  let stack: SplitApps | undefined;
  let db: Client;

  const jobs = async (): Promise<Map<string, JobRow>> => {
    const { rows } = await db.query<{ name: string; slot: string; runs: string; owner: string; finished: boolean }>(
      'SELECT name, slot::text, runs::text, owner, finished_at IS NOT NULL AS finished FROM job_run',
    );
    return new Map(
      rows.map((r) => [
        r.name,
        { name: r.name, slot: Number(r.slot), runs: Number(r.runs), owner: r.owner, finished: r.finished },
      ]),
    );
  };
  /** Polls until `done` holds for the job table (at most `timeoutMs`). */
  const waitFor = async (what: string, done: (rows: Map<string, JobRow>) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await jobs();
      if (done(rows)) return rows;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify([...rows.values()])}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const currentSlot = async (): Promise<number> => {
    const { rows } = await db.query<{ ms: string }>(
      'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::text AS ms',
    );
    return Math.floor(Number(rows[0]?.ms) / (PERIOD_S * 1000));
  };
  /**
   * Watches every job over at least `periods` periods, between two moments that both fall in the
   * middle of a period (clear of the boundaries, where runs happen), and answers runs and periods.
   */
  const observe = async (periods: number) => {
    const settled = async (): Promise<Map<string, JobRow>> => {
      const slot = await currentSlot();
      // Every job has run for the current period and finished.
      return waitFor(
        'this period’s runs',
        (rows) => JOBS.every((n) => rows.get(n)?.slot === slot && rows.get(n)?.finished),
        PERIOD_S * 1000 - 300,
      );
    };
    const start = await settled().catch(async () => settled());
    const first = await currentSlot();
    while ((await currentSlot()) < first + periods) await new Promise((r) => setTimeout(r, 200));
    const end = await settled().catch(async () => settled());
    return JOBS.map((name) => ({
      name,
      runs: (end.get(name)?.runs ?? 0) - (start.get(name)?.runs ?? 0),
      periods: (end.get(name)?.slot ?? 0) - (start.get(name)?.slot ?? 0),
      owner: end.get(name)?.owner ?? '',
    }));
  };

  before(async () => {
    if (!(await requireServices({ skip: () => undefined }, 'postgres', 'redis', 'rabbitmq'))) return;
    stack = await startSplitApps(['api', 'api', 'api'], 'https://vault.keyhaven.test', {
      SEND_DELETION_INTERVAL_SECONDS: String(PERIOD_S),
      ATTACHMENTS_CLEANUP_INTERVAL_SECONDS: String(PERIOD_S),
      EMERGENCY_ACCESS_JOBS_INTERVAL_SECONDS: String(PERIOD_S),
    });
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    await waitFor('every job’s first run', (rows) => JOBS.every((n) => rows.has(n)));
  });

  after(async () => {
    if (stack) await db.end();
    await stack?.stop('SIGKILL');
  });

  const instanceOf = (owner: string): ServerProcess | undefined =>
    stack?.servers.find((s) => owner === `${hostname()}:${s.child.pid ?? -1}`);

  test('each job runs exactly once per period, on one of the instances', async (t) => {
    if (!stack) {
      t.skip('needs PostgreSQL, Redis and RabbitMQ');
      return;
    }
    for (const job of await observe(3)) {
      assert.ok(job.periods >= 3, `${job.name}: ${job.periods} periods observed`);
      assert.equal(job.runs, job.periods, `${job.name}: ${job.runs} runs in ${job.periods} periods`);
      assert.ok(instanceOf(job.owner), `${job.name} was run by one of the three (${job.owner})`);
    }
  });

  test('after its owner is killed (SIGKILL) every job still runs once per period', async (t) => {
    if (!stack) {
      t.skip('needs PostgreSQL, Redis and RabbitMQ');
      return;
    }
    const owner = (await jobs()).get('send-deletion')?.owner ?? '';
    const victim = instanceOf(owner);
    assert.ok(victim, `the owner ${owner} is one of the instances`);
    victim.child.kill('SIGKILL');
    await new Promise((r) => victim.child.once('exit', r));
    const alive = `${hostname()}:${victim.child.pid ?? -1}`;
    for (const job of await observe(2)) {
      assert.equal(job.runs, job.periods, `${job.name}: ${job.runs} runs in ${job.periods} periods`);
      assert.notEqual(job.owner, alive, `${job.name} now runs elsewhere`);
    }
  });

  test('a run its dead instance left unfinished is run again at the next check', async (t) => {
    if (!stack) {
      t.skip('needs PostgreSQL, Redis and RabbitMQ');
      return;
    }
    const before = (await jobs()).get('attachment-cleanup');
    assert.ok(before);
    // What a kill -9 midway leaves: the run started (for a period far ahead, so it cannot look merely
    // due) and never finished, its advisory lock gone with the connection.
    await db.query(`UPDATE job_run SET slot = slot + 1000, finished_at = NULL, owner = 'dead:1' WHERE name = $1`, [
      'attachment-cleanup',
    ]);
    const after = await waitFor(
      'the interrupted run to be run again',
      (rows) =>
        (rows.get('attachment-cleanup')?.runs ?? 0) > before.runs && rows.get('attachment-cleanup')?.finished === true,
      PERIOD_S * 3000,
    );
    assert.ok(instanceOf(after.get('attachment-cleanup')?.owner ?? ''), 'a live instance resumed it');
  });
});
