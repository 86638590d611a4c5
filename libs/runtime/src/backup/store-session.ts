import type { DataSource, QueryRunner } from 'typeorm';
import { allMigrations, createDataSource, databaseKind, prepareEmbeddedStore, runMigrations } from '@keyhaven/db';

/** One connection of a store, used by the backup, restore and copy engines (plain SQL, no entities). */
export interface StoreSession {
  readonly kind: 'postgres' | 'pglite';
  /** Rows of a SELECT (or RETURNING); other statements return []. */
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface StoreLocation {
  /** PostgreSQL when set; otherwise the embedded store under dataDir. */
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
}

/** Names of every migration this build knows, oldest first. */
export function knownMigrationNames(): string[] {
  return allMigrations.map((m) => (new m() as { name: string }).name);
}

/**
 * Opens one connection to the store, migrated to `upTo` migrations (names, a prefix of the known list; default all).
 * Timestamps render in UTC so the row checksums of two stores (or of a store and a backup) can be compared.
 */
export async function openStoreSession(location: StoreLocation, upTo?: readonly string[]): Promise<StoreSession> {
  const migrations = upTo ? allMigrations.slice(0, upTo.length) : allMigrations;
  await prepareEmbeddedStore(location);
  const dataSource: DataSource = createDataSource({ ...location, migrations, poolSize: 2 });
  await dataSource.initialize();
  let runner: QueryRunner | undefined;
  try {
    await runMigrations(dataSource);
    runner = dataSource.createQueryRunner();
    await runner.connect();
    await runner.query(`SET TIME ZONE 'UTC'`);
  } catch (error) {
    if (runner) await runner.release();
    await dataSource.destroy();
    throw error;
  }
  const open = runner;
  return {
    kind: databaseKind(location),
    query: async <T>(text: string, params?: unknown[]) => {
      const result: unknown = await open.query(text, params);
      return (Array.isArray(result) ? result : []) as T[];
    },
    close: async () => {
      await open.release();
      await dataSource.destroy();
    },
  };
}

/** A session on the connection the caller already holds (the scheduled job inside the server). */
export function sessionOn(runner: QueryRunner, kind: 'postgres' | 'pglite'): StoreSession {
  return {
    kind,
    query: async <T>(text: string, params?: unknown[]) => {
      const result: unknown = await runner.query(text, params);
      return (Array.isArray(result) ? result : []) as T[];
    },
    close: () => Promise.resolve(),
  };
}
