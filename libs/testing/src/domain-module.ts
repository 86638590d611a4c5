import { createHash } from 'node:crypto';
import argon2 from 'argon2';
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { DynamicModule, Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { DataSource } from 'typeorm';
import { ConfigModule, loadConfig, serverConfigSchema, type KeyhavenConfig } from '@keyhaven/config';
import { PUSH_TOPIC, type PushMessage, type UsersPushMessage } from '@keyhaven/contracts';
import {
  Database,
  createDataSource,
  embeddedDatabaseDir,
  entities,
  migrationsForTest,
  runMigrations,
} from '@keyhaven/db';
import { InProcessEventBus } from '@keyhaven/bus';
import { MemoryCacheStore } from '@keyhaven/cache';
import { LocalBlobStore } from '@keyhaven/storage';
import type { MailMessage, Mailer } from '@keyhaven/mail';
import { InfrastructureModule, type Infrastructure } from '@keyhaven/runtime';
import { AuthDomainModule, PasswordHasher } from '@keyhaven/domain-auth';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { VaultDomainModule } from '@keyhaven/domain-vault';
import { ToolsDomainModule } from '@keyhaven/domain-tools';

/**
 * The fast tier: the domain modules wired as libs/runtime wires them (InfrastructureModule with the
 * embedded adapters — PGlite, in-process bus, memory cache, a mailer that only records), compiled
 * in-process by @nestjs/testing. No HTTP, no child processes.
 *
 * PGlite is one instance per process, so a spec file opens one store and every test in it makes its
 * own users and organizations. The store starts from a migrated template kept in /dev/shm or the OS
 * temp directory (keyed by the migrations and the PGlite build), which saves initdb and the migrations
 * in every spec file; pending migrations still run on the copy.
 */

/** Records outgoing mail; like the log mailer it does not deliver unless told to. */
export class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];

  constructor(readonly delivers = false) {}

  send(message: MailMessage): Promise<void> {
    this.sent.push(message);
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    // nothing to close
  }
}

export interface DomainModuleOptions {
  /** Configuration variables as the environment would give them (`SIGNUPS_ALLOWED: 'false'`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Whether mail counts as delivered (SMTP configured). Default false, as in the all-in-one default. */
  readonly mailDelivers?: boolean;
  /** Hash master passwords at the production Argon2 cost instead of the cheapest (see CheapPasswordHasher). */
  readonly realPasswordHashing?: boolean;
}

/** One compiled module on the shared store. */
export interface DomainContext {
  readonly module: TestingModule;
  readonly config: KeyhavenConfig;
  readonly mailer: RecordingMailer;
  get<T>(type: Type<T>): T;
}

export interface DomainHarness extends DomainContext {
  readonly dataSource: DataSource;
  /** The store as repositories see it (transaction context included). */
  readonly db: Database;
  /** Every push message published so far, in order. */
  readonly pushes: PushMessage[];
  /** Lets the in-process bus deliver what was published (handlers run on a later turn). */
  settle(): Promise<void>;
  /**
   * Another module on the same store, bus and cache with different configuration or mail
   * delivery (e.g. signups closed). Closed with the harness.
   */
  variant(options: DomainModuleOptions): Promise<DomainContext>;
  close(): Promise<void>;
}

/** The domain modules a service mounts; the harness imports all of them. */
const DOMAIN_MODULES: Type[] = [AuthDomainModule, AdminConsoleDomainModule, VaultDomainModule, ToolsDomainModule];

/** A store is about 40 MB; the template and a store per core must fit with room to spare. */
const SHM_FREE_BYTES_NEEDED = 1024 * 1024 * 1024;

/**
 * Where stores are made: memory-backed /dev/shm when the machine has it with room to spare (copying
 * and removing the thousand files of a PGlite directory costs seconds on a busy disk), else the OS
 * temp directory (containers often give /dev/shm only 64 MB).
 */
function scratchRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    const space = statfsSync('/dev/shm');
    if (space.bavail * space.bsize >= SHM_FREE_BYTES_NEEDED) return '/dev/shm';
  } catch {
    // No /dev/shm here.
  }
  return tmpdir();
}

function configFor(dataDir: string, env: Readonly<Record<string, string>> = {}): KeyhavenConfig {
  return loadConfig(serverConfigSchema, {
    DATA_DIR: dataDir,
    DOMAIN: 'https://keyhaven.test',
    LOG_LEVEL: 'silent',
    TLS: 'off',
    // Tests log in many times from one address.
    LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
    // Suites sync and import in bursts; the per-user limits on expensive calls have a test of their own.
    SYNC_CONCURRENT_PER_USER: '100000',
    SYNC_PER_MINUTE_PER_USER: '100000',
    EXPENSIVE_CALLS_CONCURRENT_PER_USER: '100000',
    EXPENSIVE_CALLS_PER_MINUTE_PER_USER: '100000',
    WRITES_PER_MINUTE_PER_USER: '100000',
    ...env,
  });
}

/** What decides whether a migrated template still fits: migration sources and the PGlite build. */
function templateKey(): string {
  const hash = createHash('sha256');
  hash.update(migrationsForTest().join('\n'));
  const migrationsDir = resolve(__dirname, '../../db/src/migrations');
  if (existsSync(migrationsDir)) {
    for (const name of readdirSync(migrationsDir).sort()) hash.update(readFileSync(join(migrationsDir, name)));
  }
  try {
    let dir = dirname(require.resolve('@electric-sql/pglite'));
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
    hash.update(readFileSync(join(dir, 'package.json')));
  } catch {
    hash.update('pglite-unknown');
  }
  return hash.digest('hex').slice(0, 16);
}

const READY = 'ready';
const STORE_PREFIX = 'keyhaven-unit-store-';
const ABANDONED_AFTER_MS = 3600_000;

/** Stores of test processes that were killed before their `after` ran; live ones are minutes old at most. */
function removeAbandonedStores(): void {
  const root = scratchRoot();
  for (const entry of readdirSync(root)) {
    if (!entry.startsWith(STORE_PREFIX)) continue;
    const path = join(root, entry);
    try {
      if (Date.now() - statSync(path).mtimeMs > ABANDONED_AFTER_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
const TEMPLATE_PREFIX = 'keyhaven-unit-pglite-';

/**
 * A migrated, closed PGlite data directory to copy from. Built once per machine and key; processes
 * racing to build it each build their own and the first rename wins. `owned` marks a private copy
 * (the rename lost to an incomplete directory) that the caller removes after copying.
 */
async function migratedTemplate(): Promise<{ dir: string; owned: boolean }> {
  const root = scratchRoot();
  const name = `${TEMPLATE_PREFIX}${templateKey()}`;
  const template = join(root, name);
  if (existsSync(join(template, READY))) return { dir: template, owned: false };
  // Templates of older migrations are of no further use (40 MB each, in memory on /dev/shm).
  for (const entry of readdirSync(root)) {
    if (entry.startsWith(TEMPLATE_PREFIX) && !entry.startsWith(name) && !entry.includes('.building-'))
      rmSync(join(root, entry), { recursive: true, force: true });
  }
  const building = mkdtempSync(`${template}.building-`);
  const dataSource = createDataSource({ dataDir: building, entities });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
  // The marker goes in last: a directory without it is incomplete and never used.
  writeFileSync(join(building, READY), new Date().toISOString());
  try {
    renameSync(building, template);
    return { dir: template, owned: false };
  } catch {
    if (!existsSync(join(template, READY))) return { dir: building, owned: true };
    rmSync(building, { recursive: true, force: true });
    return { dir: template, owned: false };
  }
}

/**
 * The production hasher with Argon2id at its cheapest settings. Stored hashes keep their PHC
 * parameters, so verification is the real code path; only the cost differs. Tests create a hundred
 * accounts or more, and at the production cost the hashing alone would take most of the tier's time.
 */
export class CheapPasswordHasher extends PasswordHasher {
  override hash(secret: string): Promise<string> {
    return argon2.hash(secret, { type: argon2.argon2id, memoryCost: 1024, timeCost: 1, parallelism: 1 });
  }
}

async function compile(
  infrastructure: Infrastructure,
  config: KeyhavenConfig,
  realHashing: boolean,
): Promise<TestingModule> {
  const imports: (Type | DynamicModule)[] = [
    ConfigModule.forRoot(config),
    InfrastructureModule.forRoot(infrastructure),
    ...DOMAIN_MODULES,
  ];
  const builder = Test.createTestingModule({ imports });
  if (!realHashing) builder.overrideProvider(PasswordHasher).useClass(CheapPasswordHasher);
  const module = await builder.compile();
  await module.init();
  return module;
}

function context(module: TestingModule, config: KeyhavenConfig, mailer: RecordingMailer): DomainContext {
  return { module, config, mailer, get: <T>(type: Type<T>): T => module.get(type, { strict: false }) };
}

/** Opens a store for this spec file and compiles the domain modules on it. Close it in `after`. */
export async function createDomainHarness(options: DomainModuleOptions = {}): Promise<DomainHarness> {
  removeAbandonedStores();
  const dataDir = mkdtempSync(join(scratchRoot(), STORE_PREFIX));
  const template = await migratedTemplate();
  cpSync(embeddedDatabaseDir(template.dir), embeddedDatabaseDir(dataDir), { recursive: true });
  if (template.owned) rmSync(template.dir, { recursive: true, force: true });

  const dataSource = createDataSource({ dataDir, entities });
  await dataSource.initialize();
  await runMigrations(dataSource);
  const bus = new InProcessEventBus();
  const cacheStore = new MemoryCacheStore();
  const blobs = new LocalBlobStore(join(dataDir, 'blobs'));
  const pushes: PushMessage[] = [];
  await bus.subscribe<PushMessage | UsersPushMessage>(PUSH_TOPIC, (message) => {
    const push = message.payload;
    // A many-users push is recorded as the single-user pushes each hub instance would expand it to.
    if ('userIds' in push)
      for (const userId of push.userIds)
        pushes.push({
          type: push.type,
          userId,
          contextId: push.contextId,
          payload: push.payload ?? { UserId: userId, Date: push.date },
        });
    else pushes.push(push);
    return Promise.resolve();
  });

  const infrastructureFor = (mailer: Mailer): Infrastructure => ({
    dataSource,
    bus,
    cacheStore,
    blobs,
    mailer,
    healthChecks: [],
    // The harness closes the shared adapters itself, once, after every module.
    close: () => Promise.resolve(),
  });

  const modules: TestingModule[] = [];
  const open = async (opts: DomainModuleOptions): Promise<DomainContext> => {
    const config = configFor(dataDir, opts.env);
    const mailer = new RecordingMailer(opts.mailDelivers ?? false);
    const module = await compile(infrastructureFor(mailer), config, opts.realPasswordHashing ?? false);
    modules.push(module);
    return context(module, config, mailer);
  };

  let main: DomainContext;
  try {
    main = await open(options);
  } catch (error) {
    await dataSource.destroy();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  let closed = false;
  return {
    ...main,
    dataSource,
    db: main.get(Database),
    pushes,
    settle: async () => {
      for (let i = 0; i < 3; i++) await new Promise((done) => setImmediate(done));
    },
    variant: open,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const module of modules.reverse()) await module.close();
      await bus.close();
      await cacheStore.close();
      await blobs.close();
      await dataSource.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
