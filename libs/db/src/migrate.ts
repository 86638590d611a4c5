import { MigrationExecutor, type DataSource } from 'typeorm';

/** Arbitrary but fixed: every Keyhaven instance contends for this advisory lock before migrating. */
const MIGRATION_LOCK_KEY = 7_245_160_101;

export interface MigrationReport {
  readonly applied: string[];
}

/**
 * Runs pending migrations once, whichever instance gets there first: the advisory lock serialises
 * instances starting together, and the ones that wait find nothing left to do.
 * The lock and the migrations share one query runner (PGlite has a single leased connection).
 */
export async function runMigrations(dataSource: DataSource): Promise<MigrationReport> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return { applied: applied.map((m) => m.name) };
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
