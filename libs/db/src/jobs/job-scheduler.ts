import { hostname } from 'node:os';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import type { Database } from '../database';
import type { JobLock } from './job-lock';

export interface JobDefinition {
  /** Unique in the deployment: the lock and the `job_run` row are keyed by it. */
  readonly name: string;
  /** One run per period across every instance; periods are aligned on the database's clock. */
  readonly periodMs: number;
  /**
   * One period's work. It must be safe to run again: a run cut short (its instance killed) is run again
   * by the next instance that checks, and a failed run is retried in the next period.
   */
  readonly run: () => Promise<unknown>;
  /**
   * The job shares its work out itself (rows claimed with FOR UPDATE SKIP LOCKED) and every instance
   * runs it every period: no lock, no bookkeeping.
   */
  readonly everyInstance?: boolean;
  /**
   * A calendar job (a cron schedule, e.g. BACKUP_SCHEDULE): the first fire time strictly after `ms` (epoch
   * ms). It runs once per fire time that has passed, the first time at the first fire after the job was first
   * seen by any instance (not at boot); `periodMs` then only bounds how long an instance sleeps between checks.
   */
  readonly nextAfter?: (ms: number) => number;
}

export type CheckOutcome = 'ran' | 'not-due' | 'busy';

export interface ScheduledJob {
  /** Cancels the timer and waits for the run in progress. */
  stop(): Promise<void>;
  /** One check now, as the timer would do it (tests, operator tools). */
  check(): Promise<CheckOutcome>;
}

/** How soon an instance looks again when another holds the job (it may die mid-run) or the database failed. */
const RECHECK_MS = 30_000;
/** The latest first check after boot. */
const FIRST_CHECK_MS = 60_000;

/** The last fire time after `last` and at or before `now`, or null when none has passed (bounded walk). */
function latestFireTime(nextAfter: (ms: number) => number, last: number, now: number): number | null {
  let fired = nextAfter(last);
  if (fired > now) return null;
  for (let i = 0; i < 100_000; i++) {
    const next = nextAfter(fired);
    if (next > now) break;
    fired = next;
  }
  return fired;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The one scheduler of every periodic job. Each instance wakes at the start of each period (the
 * database's clock, so instances agree), takes the job's lock (`JobLock`: a PostgreSQL advisory lock)
 * and, under it, looks at the job's `job_run` row: the job runs when no run has started in this period
 * yet, or when the last run never finished — its instance died, the lock died with it, and the work is
 * resumed here. The first check comes at most FIRST_CHECK_MS after boot. So each job runs once per period whatever the number of instances, and a run killed
 * midway is run again within RECHECK_MS. Timers live in @nestjs/schedule's registry and never keep
 * the process alive.
 */
export class JobScheduler implements OnApplicationShutdown {
  /** Recorded as the owner of each run this process starts. */
  readonly instanceId = `${hostname()}:${process.pid}`;
  private readonly logger = new Logger('jobs');
  private readonly jobs = new Map<string, ScheduledJob>();

  constructor(
    private readonly db: Database,
    private readonly lock: JobLock,
    private readonly registry?: SchedulerRegistry,
  ) {}

  /** Starts the job's timer; its first check comes at the next period boundary. */
  schedule(definition: JobDefinition): ScheduledJob {
    if (this.jobs.has(definition.name)) throw new Error(`job ${definition.name} is scheduled twice`);
    const job = new Runner(definition, this, this.registry);
    this.jobs.set(definition.name, job);
    job.start();
    return job;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((job) => job.stop()));
  }

  /**
   * Runs `fn` under the job's lock, outside the timer and its bookkeeping (operator tools, tests): null
   * without running when a scheduled run of the same job, here or on another instance, holds it.
   */
  async exclusively<T>(name: string, fn: () => Promise<T>): Promise<T | null> {
    const held = await this.lock.tryRun(name, fn);
    return held ? held.value : null;
  }

  /** @internal One check of an exclusive job; answers the outcome and the delay until the next check. */
  async check(definition: JobDefinition): Promise<{ outcome: CheckOutcome; nextMs: number }> {
    const { name, periodMs } = definition;
    const held = await this.lock.tryRun(name, async () => {
      const [state] = await this.db.rows<{ now_ms: string; slot: string | null; interrupted: boolean | null }>(
        `SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS now_ms,
                j.slot::text AS slot, (j.name IS NOT NULL AND j.finished_at IS NULL) AS interrupted
           FROM (SELECT 1) AS one LEFT JOIN job_run j ON j.name = $1`,
        [name],
      );
      const nowMs = Number(state?.now_ms ?? Date.now());
      const started = Date.now();
      const last = state?.slot === null || state?.slot === undefined ? null : Number(state.slot);
      const interrupted = state?.interrupted === true;
      let slot: number;
      let nextMs: () => number;
      if (definition.nextAfter) {
        const nextAfter = definition.nextAfter;
        nextMs = (): number => Math.min(periodMs, nextAfter(nowMs) - nowMs) - (Date.now() - started);
        if (last === null) {
          // First sighting: fire times are counted from now on; a first boot does not run the job at once.
          await this.db.execute(
            `INSERT INTO job_run (name, slot, runs, started_at, finished_at, owner) VALUES ($1, $2, 0, now(), now(), $3)
             ON CONFLICT (name) DO NOTHING`,
            [name, nowMs, this.instanceId],
          );
          return { outcome: 'not-due' as const, nextMs: nextMs() };
        }
        const fired = latestFireTime(nextAfter, last, nowMs);
        if (fired === null && !interrupted) return { outcome: 'not-due' as const, nextMs: nextMs() };
        slot = fired ?? last;
      } else {
        slot = Math.floor(nowMs / periodMs);
        nextMs = (): number => (slot + 1) * periodMs - nowMs - (Date.now() - started);
        if (last !== null && last >= slot && !interrupted) return { outcome: 'not-due' as const, nextMs: nextMs() };
      }
      if (state?.interrupted === true) this.logger.warn(`job ${name}: the last run did not finish, running it again`);
      await this.db.execute(
        `INSERT INTO job_run (name, slot, runs, started_at, owner) VALUES ($1, $2, 1, now(), $3)
         ON CONFLICT (name) DO UPDATE SET slot = EXCLUDED.slot, runs = job_run.runs + 1, started_at = now(),
                                         finished_at = NULL, owner = EXCLUDED.owner`,
        [name, slot, this.instanceId],
      );
      let failure: string | null = null;
      try {
        await definition.run();
      } catch (error) {
        failure = message(error).slice(0, 500);
        this.logger.warn(`job ${name} failed, retried next period: ${failure}`);
      }
      await this.db.execute(`UPDATE job_run SET finished_at = clock_timestamp(), last_error = $2 WHERE name = $1`, [
        name,
        failure,
      ]);
      return { outcome: 'ran' as const, nextMs: nextMs() };
    });
    return held?.value ?? { outcome: 'busy', nextMs: Math.min(periodMs, RECHECK_MS) };
  }

  /** @internal */
  report(name: string, error: unknown): void {
    this.logger.warn(`job ${name}: ${message(error)}`);
  }
}

class Runner implements ScheduledJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private readonly timerName: string;

  constructor(
    private readonly definition: JobDefinition,
    private readonly scheduler: JobScheduler,
    private readonly registry: SchedulerRegistry | undefined,
  ) {
    this.timerName = `job:${definition.name}`;
  }

  start(): void {
    const { periodMs } = this.definition;
    // At the next period's start, or sooner for long periods: a daily job on instances restarted more
    // often than daily would otherwise never get its turn. Checking early never runs a period twice.
    this.arm(this.definition.everyInstance ? periodMs : Math.min(periodMs - (Date.now() % periodMs), FIRST_CHECK_MS));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.disarm();
    await this.running;
  }

  async check(): Promise<CheckOutcome> {
    if (this.definition.everyInstance) {
      await this.definition.run();
      return 'ran';
    }
    return (await this.scheduler.check(this.definition)).outcome;
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped || this.running) return;
    const { periodMs, everyInstance, name } = this.definition;
    const round: Promise<number> = everyInstance
      ? this.definition.run().then(
          () => periodMs,
          (error: unknown) => {
            this.scheduler.report(name, error);
            return periodMs;
          },
        )
      : this.scheduler.check(this.definition).then(
          ({ nextMs }) => nextMs,
          (error: unknown) => {
            this.scheduler.report(name, error);
            return Math.min(periodMs, RECHECK_MS);
          },
        );
    this.running = round.then((nextMs) => {
      this.running = undefined;
      // A little spread so that the instances do not all ask the database in the same millisecond.
      if (!this.stopped)
        this.arm(Math.max(0, nextMs) + (everyInstance ? 0 : Math.random() * Math.min(250, periodMs / 10)));
    });
  }

  private arm(delayMs: number): void {
    this.disarm();
    const timer = setTimeout(() => {
      this.tick();
    }, delayMs);
    timer.unref();
    this.timer = timer;
    this.registry?.addTimeout(this.timerName, timer);
  }

  private disarm(): void {
    if (this.registry?.doesExist('timeout', this.timerName)) this.registry.deleteTimeout(this.timerName);
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
