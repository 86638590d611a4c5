import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per scheduled job, shared by every instance: the period (`slot`, epoch milliseconds divided by
 * the job's period) of the last run started, how many runs there have been, and whether the last one
 * finished. The scheduler reads and writes it only while it holds the job's advisory lock, so a job runs
 * once per period however many instances there are, and a run whose instance died (`finished_at` null
 * with nobody holding the lock) is run again by another.
 */
export class JobRuns1797550000000 implements MigrationInterface {
  name = 'JobRuns1797550000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_run (
        name text PRIMARY KEY,
        slot bigint NOT NULL,
        runs bigint NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        owner text NOT NULL,
        last_error text
      );
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
