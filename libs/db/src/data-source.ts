import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import { leasedPGliteDriver } from './pglite-driver';
import { migrations } from './migrations';

export interface DatabaseSettings {
  /** PostgreSQL when set; otherwise the embedded PGlite under dataDir. */
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  readonly poolSize?: number;
  /* eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own entity list type */
  readonly entities?: MixedList<Function | string | EntitySchema>;
}

export type DatabaseKind = 'postgres' | 'pglite';

export function databaseKind(settings: DatabaseSettings): DatabaseKind {
  return settings.databaseUrl ? 'postgres' : 'pglite';
}

export function embeddedDatabaseDir(dataDir: string): string {
  return resolve(dataDir, 'db');
}

/** One data source definition for both stores: same entities, same migrations, same SQL. */
export function createDataSource(settings: DatabaseSettings): DataSource {
  const common = {
    type: 'postgres',
    entities: settings.entities ?? [],
    migrations,
    migrationsTableName: 'schema_migrations',
    migrationsRun: false,
    synchronize: false,
    logging: false,
  } as const;
  let options: DataSourceOptions;
  if (settings.databaseUrl) {
    options = {
      ...common,
      url: settings.databaseUrl,
      poolSize: settings.poolSize ?? 10,
      connectTimeoutMS: 5000,
      applicationName: 'keyhaven',
    };
  } else {
    const dataDir = embeddedDatabaseDir(settings.dataDir);
    mkdirSync(dataDir, { recursive: true });
    options = { ...common, driver: leasedPGliteDriver({ dataDir }), database: 'postgres', installExtensions: false };
  }
  return new DataSource(options);
}
