import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Cluster-wide ownership of a named job: `tryRun` runs `fn` only while this process holds the job's
 * lock and answers null, without running, when another holder has it. However `fn` ends, the lock is
 * released; if the process dies, the lock goes with it.
 */
export interface JobLock {
  tryRun<T>(name: string, fn: () => Promise<T>): Promise<{ value: T } | null>;
}

/** Both halves of the two-key advisory lock: a namespace of our own, then the job's name hashed by PostgreSQL. */
const NAMESPACE = 'keyhaven.jobs';

/**
 * PostgreSQL's session advisory lock, taken with `pg_try_advisory_lock` on a connection of its own that
 * is held for the whole run: the job's statements use the pool as usual (and their own transactions),
 * and a holder killed with `kill -9` loses the lock as soon as PostgreSQL sees its connection close —
 * no lease to wait out. A transaction-scoped lock would instead keep a transaction open for the length
 * of the run.
 */
export class PostgresJobLock implements JobLock {
  constructor(private readonly dataSource: DataSource) {}

  async tryRun<T>(name: string, fn: () => Promise<T>): Promise<{ value: T } | null> {
    const runner: QueryRunner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked', [
        NAMESPACE,
        name,
      ])) as { locked: boolean }[];
      if (!row?.locked) return null;
      try {
        return { value: await fn() };
      } finally {
        // A connection lost meanwhile (database restart) took the lock with it; nothing left to release.
        await runner
          .query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', [NAMESPACE, name])
          .catch(() => undefined);
      }
    } finally {
      await runner.release();
    }
  }
}

/**
 * The embedded store serves one process, which is then the only instance: an in-process set of the
 * jobs running is the whole lock. (A session lock there would hold PGlite's single connection for the
 * run, and the job's own statements would wait for it.)
 */
export class ProcessJobLock implements JobLock {
  private readonly held = new Set<string>();

  async tryRun<T>(name: string, fn: () => Promise<T>): Promise<{ value: T } | null> {
    if (this.held.has(name)) return null;
    this.held.add(name);
    try {
      return { value: await fn() };
    } finally {
      this.held.delete(name);
    }
  }
}

/** The lock that fits the store: advisory locks on PostgreSQL, in-process on the embedded one. */
export function createJobLock(dataSource: DataSource): JobLock {
  // The embedded store is the data source built with a driver of its own (see createDataSource).
  const embedded = 'driver' in dataSource.options && dataSource.options.driver !== undefined;
  return embedded ? new ProcessJobLock() : new PostgresJobLock(dataSource);
}
