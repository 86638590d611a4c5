import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import { leasedPGliteDriver } from './pglite-driver';
import { migrations } from './migrations';

export interface DatabaseSettings {
  /** PostgreSQL when set; otherwise the embedded PGlite under dataDir. */
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  readonly poolSize?: number;
  /** Where initdb templates of the embedded store are kept (default node_modules/.cache/keyhaven). */
  readonly templateRoot?: string;
  /* eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own entity list type */
  readonly entities?: MixedList<Function | string | EntitySchema>;
  /** Migrations to know of (default: every one); a restore builds the schema a backup was made with, then the rest. */
  /* eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own migration list type */
  readonly migrations?: Function[];
}

export type DatabaseKind = 'postgres' | 'pglite';

export function databaseKind(settings: DatabaseSettings): DatabaseKind {
  return settings.databaseUrl ? 'postgres' : 'pglite';
}

export function embeddedDatabaseDir(dataDir: string): string {
  return resolve(dataDir, 'db');
}

/**
 * Server settings of the embedded PostgreSQL, sized for the all-in-one's small team rather than PostgreSQL's
 * defaults for a dedicated machine. Each is measured by `npm run bench:footprint`:
 * - shared_buffers: the default 128 MB of buffer pool lives in the WebAssembly heap and stays resident once
 *   touched; 16 MB holds the working set of a team's vaults (a 10,000-item vault is about 15 MB of rows), and
 *   pages beyond it are read again from the operating system's page cache.
 * - maintenance_work_mem: CREATE INDEX and VACUUM may grow the heap by this much, and a WebAssembly heap never
 *   shrinks; 16 MB is plenty for tables of this size.
 * - max_connections: PGlite is single-user PostgreSQL with one session, but sizes (and initialises) the per-backend
 *   shared state for 100; 5 keeps the lock table at over a thousand entries (max_locks_per_transaction times the
 *   backend slots), far more than the largest migration takes.
 * Durability settings (fsync, synchronous_commit, full_page_writes) stay PGlite's own: nothing here trades them.
 */
export const EMBEDDED_SERVER_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
  maintenance_work_mem: '16MB',
  max_connections: '5',
};

/** PGlite's options for the store under `dataDir` (already the `db` directory). */
export function embeddedStoreOptions(dataDir: string): PGliteOptions {
  return {
    dataDir,
    // PGlite's own start parameters (single-user mode and the rest), then ours.
    startParams: [
      ...PGlite.defaultStartParams,
      ...Object.entries(EMBEDDED_SERVER_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    // PGlite runs the server with fsync off (-F); an fsync of the new directory at the end of initdb buys nothing.
    initDbStartParams: ['--no-sync'],
  };
}

let baselineCompilerOnly = false;

/**
 * PGlite is PostgreSQL compiled to a 9 MB WebAssembly module. By default V8 recompiles its hot functions with
 * its optimising compiler (TurboFan) in the background while the server starts; for this module that costs about
 * 60 MB of resident memory that is never returned and half a second of CPU at every start, for queries that
 * run at the baseline compiler's (Liftoff's) speed well within what a small team's requests need (the sync
 * timing in `npm run bench:footprint` shows the difference). Process-wide; set before the module is compiled.
 */
function useBaselineWasmCompiler(): void {
  if (baselineCompilerOnly) return;
  setFlagsFromString('--liftoff-only');
  baselineCompilerOnly = true;
}

/** Runs PGlite once on a new directory, which makes PGlite run initdb, and exits. */
const INITDB_SCRIPT = `
const { PGlite } = require(process.argv[1]);
PGlite.create(JSON.parse(process.argv[2])).then((db) => db.close()).catch((error) => {
  process.stderr.write(String((error && error.message) || error));
  process.exit(1);
});`;

/**
 * Where new embedded stores are copied from: a directory initdb made, kept per PGlite build and initdb options in
 * node_modules/.cache (or `settings.templateRoot`). A first start copies it instead of running initdb, which costs
 * seconds of CPU. Migrations still run on the copy, so the template never needs to change with them.
 */
export function embeddedTemplateDir(templateRoot?: string): string {
  const pglite = require.resolve('@electric-sql/pglite');
  // .../node_modules/@electric-sql/pglite/dist/index.cjs
  const packageDir = resolve(dirname(pglite), '..');
  const version = (JSON.parse(readFileSync(resolve(packageDir, 'package.json'), 'utf8')) as { version?: string })
    .version;
  const key = createHash('sha256')
    .update(JSON.stringify({ version, initdb: embeddedStoreOptions('').initDbStartParams }))
    .digest('hex')
    .slice(0, 16);
  const root = templateRoot ?? resolve(packageDir, '..', '..', '.cache', 'keyhaven');
  return resolve(root, `pglite-initdb-${key}`);
}

/** Runs initdb (by starting PGlite on an empty directory) in a child process. */
async function initdb(dir: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '--liftoff-only',
      '-e',
      INITDB_SCRIPT,
      require.resolve('@electric-sql/pglite'),
      JSON.stringify(embeddedStoreOptions(dir)),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', done);
  });
  if (code !== 0) throw new Error(`initdb failed (${code ?? 'killed'}): ${stderr.trim()}`);
}

/**
 * Copies a directory tree of plain files (a PostgreSQL data directory): the copies run on libuv's thread pool,
 * 64 at a time, so the main thread stays free (start-up makes the TLS keys meanwhile). About a thousand files;
 * fs.cpSync's per-entry checks made it several times slower.
 */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  const entries = await readdir(from, { withFileTypes: true });
  const files = entries.filter((e) => !e.isDirectory());
  for (const dir of entries.filter((e) => e.isDirectory())) await copyTree(join(from, dir.name), join(to, dir.name));
  for (let i = 0; i < files.length; i += 64) {
    await Promise.all(files.slice(i, i + 64).map((f) => copyFile(join(from, f.name), join(to, f.name))));
  }
}

/** Copies `from` to `to` through a temporary name, so `to` appears complete or not at all. */
async function copyAtomically(from: string, to: string): Promise<void> {
  const partial = `${to}.partial-${process.pid}`;
  try {
    await copyTree(from, partial);
    renameSync(partial, to);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/**
 * Creates the embedded database directory when it does not exist yet: a copy of the initdb template when there
 * is one, otherwise PostgreSQL's initdb in a short-lived child process (initdb runs a second PGlite instance and
 * keeps a copy of its heap, several hundred megabytes that PGlite leaves referenced after it is done), whose
 * result then becomes the template. The store is built beside its final place and renamed into it, so a start
 * interrupted half-way leaves nothing half-made. Without this step the data source runs initdb in this process.
 */
export type EmbeddedStorePreparation = 'existing' | 'copied' | 'created';

export async function prepareEmbeddedStore(settings: DatabaseSettings): Promise<EmbeddedStorePreparation> {
  if (settings.databaseUrl) return 'existing';
  const dataDir = embeddedDatabaseDir(settings.dataDir);
  if (existsSync(resolve(dataDir, 'PG_VERSION'))) return 'existing';
  const building = `${dataDir}.initdb-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const template = embeddedTemplateDir(settings.templateRoot);
  let outcome: EmbeddedStorePreparation = 'copied';
  try {
    try {
      // Read-only while a template is being replaced or removed: any failure falls back to initdb.
      if (!existsSync(resolve(template, 'PG_VERSION'))) throw new Error('no template');
      await copyTree(template, building);
    } catch {
      outcome = 'created';
      rmSync(building, { recursive: true, force: true });
      mkdirSync(building, { recursive: true });
      await initdb(building);
      try {
        mkdirSync(dirname(template), { recursive: true });
        await copyAtomically(building, template);
      } catch {
        // A read-only tree, or another process made the template first: next time initdb runs again, or copies.
      }
    }
    // An empty directory left by an earlier version's mkdir is replaced; a non-empty one makes the rename fail.
    if (existsSync(dataDir) && readdirSync(dataDir).length === 0) rmSync(dataDir, { recursive: true });
    renameSync(building, dataDir);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error instanceof Error ? new Error(`creating the embedded database in ${dataDir}: ${error.message}`) : error;
  }
  return outcome;
}

/** One data source definition for both stores: same entities, same migrations, same SQL. */
export function createDataSource(settings: DatabaseSettings): DataSource {
  const common = {
    type: 'postgres',
    entities: settings.entities ?? [],
    migrations: settings.migrations ?? migrations,
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
    useBaselineWasmCompiler();
    options = {
      ...common,
      driver: leasedPGliteDriver(embeddedStoreOptions(dataDir)),
      database: 'postgres',
      installExtensions: false,
    };
  }
  return new DataSource(options);
}
