import { resolve } from 'node:path';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { StartupError, type KeyhavenConfig } from '@keyhaven/config';
import {
  createDataSource,
  databaseKind,
  prepareEmbeddedStore,
  type EmbeddedStorePreparation,
  runMigrations,
  entities,
  onLongLease,
} from '@keyhaven/db';
import { InProcessEventBus, connectRabbitMq, type EventBus } from '@keyhaven/bus';
import { MemoryCacheStore, RedisCacheStore, type CacheStore } from '@keyhaven/cache';
import { LocalBlobStore, S3BlobStore, type BlobStore } from '@keyhaven/storage';
import { LogMailer, SmtpMailer, type Mailer } from '@keyhaven/mail';
import type { HealthCheck } from '@keyhaven/http';

/** Every adapter a service process uses, connected and checked before the HTTP server starts. */
export interface Infrastructure {
  readonly dataSource: DataSource;
  readonly bus: EventBus;
  readonly cacheStore: CacheStore;
  readonly blobs: BlobStore;
  readonly mailer: Mailer;
  readonly healthChecks: HealthCheck[];
  close(): Promise<void>;
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Keep it to one line; drivers sometimes add detail on following lines.
  return message.split('\n')[0] ?? message;
}

async function step<T>(variable: string, what: () => Promise<T>): Promise<T> {
  try {
    return await what();
  } catch (error) {
    throw new StartupError(variable, reason(error));
  }
}

/** The blob store the configuration names: S3 when S3_BUCKET is set, else files under DATA_DIR/blobs. */
export function blobStoreFor(
  config: Pick<
    KeyhavenConfig,
    'S3_BUCKET' | 'S3_ENDPOINT' | 'S3_REGION' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY' | 'DATA_DIR'
  >,
): BlobStore {
  return config.S3_BUCKET
    ? new S3BlobStore({
        bucket: config.S3_BUCKET,
        endpoint: config.S3_ENDPOINT,
        region: config.S3_REGION,
        accessKeyId: config.S3_ACCESS_KEY_ID,
        secretAccessKey: config.S3_SECRET_ACCESS_KEY,
        forcePathStyle: config.S3_ENDPOINT !== undefined,
      })
    : new LocalBlobStore(resolve(config.DATA_DIR, 'blobs'));
}

/**
 * Chooses each adapter from configuration (embedded unless a URL is set), connects it, and runs
 * pending migrations under the advisory lock. A failure names the variable that points at the
 * broken dependency; whatever was already connected is closed again.
 */
export async function connectInfrastructure(
  config: KeyhavenConfig,
  logger: Logger,
  /** The embedded store's preparation when the caller started it already (bootApp overlaps it with TLS set-up). */
  storePreparation?: Promise<EmbeddedStorePreparation>,
): Promise<Infrastructure> {
  const opened: { close(): Promise<void> }[] = [];
  try {
    const dbVariable = config.DATABASE_URL ? 'DATABASE_URL' : 'DATA_DIR';
    const dbSettings = { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, entities };
    const prepared = await step(dbVariable, () => storePreparation ?? prepareEmbeddedStore(dbSettings));
    if (prepared !== 'existing') {
      logger.info({ from: prepared === 'copied' ? 'initdb template' : 'initdb' }, 'embedded database created');
    }
    const dataSource = createDataSource(dbSettings);
    await step(dbVariable, () => dataSource.initialize());
    opened.push({ close: () => dataSource.destroy() });
    // The embedded store has one connection: whoever keeps it long stalls every other request.
    const stopWatchingLeases = onLongLease(({ heldMs, holder }) => {
      logger.warn({ heldMs, holder }, 'embedded database connection held long');
    });
    opened.push({
      close: () => {
        stopWatchingLeases();
        return Promise.resolve();
      },
    });
    if (config.MIGRATE_AT_BOOT) {
      const migrated = await step(dbVariable, () => runMigrations(dataSource));
      if (migrated.applied.length > 0) logger.info({ migrations: migrated.applied }, 'database migrated');
    } else if (await step(dbVariable, () => dataSource.showMigrations())) {
      // A deploy step migrates (the chart's hook Job); this version's code needs what it has not applied yet.
      throw new StartupError(
        'MIGRATE_AT_BOOT',
        'the database has migrations this version needs that are not applied: run `keyhaven migrate-db` first',
      );
    }

    const bus: EventBus = config.AMQP_URL
      ? await step('AMQP_URL', () => connectRabbitMq(config.AMQP_URL ?? '', { logger }))
      : new InProcessEventBus({ logger });
    opened.push(bus);

    const cacheStore: CacheStore = config.REDIS_URL
      ? await step('REDIS_URL', () => RedisCacheStore.connect(config.REDIS_URL ?? '', { logger }))
      : new MemoryCacheStore({ logger });
    opened.push(cacheStore);

    const blobs = blobStoreFor(config);
    opened.push(blobs);
    await step(config.S3_BUCKET ? 'S3_BUCKET' : 'DATA_DIR', () => blobs.ping());

    const mailer: Mailer = config.SMTP_HOST
      ? new SmtpMailer(
          {
            host: config.SMTP_HOST,
            port: config.SMTP_PORT,
            security: config.SMTP_SECURITY,
            username: config.SMTP_USERNAME,
            password: config.SMTP_PASSWORD,
            from: config.SMTP_FROM,
          },
          logger,
        )
      : new LogMailer(logger);

    const healthChecks: HealthCheck[] = [
      {
        name: 'database',
        kind: databaseKind({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR }),
        check: async () => {
          await dataSource.query('SELECT 1');
        },
      },
      // Not required for readiness: while RabbitMQ is down writes succeed and wait in the outbox, and while Redis is
      // down only what needs it answers 503 (deploy/README.md, "Dependency outages").
      { name: 'bus', kind: config.AMQP_URL ? 'rabbitmq' : 'in-process', required: false, check: () => bus.ping() },
      { name: 'cache', kind: config.REDIS_URL ? 'redis' : 'memory', required: false, check: () => cacheStore.ping() },
      { name: 'blobs', kind: config.S3_BUCKET ? 's3' : 'local', check: () => blobs.ping() },
      ...(config.SMTP_HOST ? [{ name: 'mail', kind: 'smtp', check: () => mailer.ping() }] : []),
    ];

    return {
      dataSource,
      bus,
      cacheStore,
      blobs,
      mailer,
      healthChecks,
      close: async () => {
        mailer.close();
        // Reverse order: stop producers of work before the database goes away.
        for (const resource of opened.reverse()) {
          try {
            await resource.close();
          } catch (error) {
            logger.warn({ err: reason(error) }, 'error while closing a connection');
          }
        }
      },
    };
  } catch (error) {
    for (const resource of opened.reverse()) await resource.close().catch(() => undefined);
    throw error;
  }
}
