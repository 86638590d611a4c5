import { randomUUID } from 'node:crypto';
import type { ChannelModel, SocketOptions } from 'amqplib';
import { DEFAULT_DELIVERY_LIMIT, DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_PREFETCH } from '../internal/defaults';
import type { BackoffOptions } from '../internal/timing';
import { assertNonNegativeInt, assertPositiveInt } from '../internal/validate';
import { type BusLogger, guardLogger, silentBusLogger } from '../logger';

/** Opens one AMQP connection. Swappable so tests can reach the live connection and simulate outages. */
export type AmqpConnector = (url: string, socketOptions: SocketOptions) => Promise<ChannelModel>;

export interface RabbitMqEventBusOptions {
  /** Topic exchange for broadcasts (declared durable). Default `keyhaven.broadcast`. */
  readonly exchange?: string;
  /** Stamped on every message as `originId` (AMQP `app-id`) and in the connection name. Default: a random UUID. */
  readonly instanceId?: string;
  /**
   * `x-delivery-limit` of every work queue: a failing message is redelivered at most this many times, then
   * dropped. Part of the queue's identity — every instance must use the same value (else 406 on declare). Default 5.
   */
  readonly deliveryLimit?: number;
  /** Default per-consumer prefetch for work queues. Default 10. */
  readonly prefetch?: number;
  /** Bound on publish/enqueue, including waiting through a reconnect for the broker's confirm. Default 10 s. */
  readonly publishTimeoutMs?: number;
  /** TCP connect + AMQP handshake timeout, at startup and on every reconnect. Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** AMQP heartbeat, so a half-open connection is noticed within ~2 intervals; a `?heartbeat=` in the URL wins. Default 15 s. */
  readonly heartbeatSeconds?: number;
  /** Reconnect backoff: doubles from `initialDelayMs` up to `maxDelayMs`. Default 100 ms → 10 s. */
  readonly reconnect?: Partial<BackoffOptions>;
  /**
   * How long `close()` and unsubscribing wait for pending publishes, running handlers and each close
   * handshake (after which a connection that doesn't answer is torn down). Default 5 s.
   */
  readonly drainTimeoutMs?: number;
  readonly logger?: BusLogger;
  readonly connector?: AmqpConnector;
}

export const DEFAULT_EXCHANGE = 'keyhaven.broadcast';

export interface RabbitMqConfig {
  readonly exchange: string;
  readonly instanceId: string;
  readonly deliveryLimit: number;
  readonly prefetch: number;
  readonly publishTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly heartbeatSeconds: number;
  readonly reconnect: BackoffOptions;
  readonly drainTimeoutMs: number;
  readonly logger: BusLogger;
  readonly connector: AmqpConnector;
}

// amqplib is loaded on the first connection: processes on the in-process bus never load it.
const defaultConnector: AmqpConnector = async (url, socketOptions) =>
  (await import('amqplib')).connect(url, socketOptions);

export function resolveOptions(options: RabbitMqEventBusOptions): RabbitMqConfig {
  const config: RabbitMqConfig = {
    exchange: options.exchange ?? DEFAULT_EXCHANGE,
    instanceId: options.instanceId ?? randomUUID(),
    deliveryLimit: options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT,
    prefetch: options.prefetch ?? DEFAULT_PREFETCH,
    publishTimeoutMs: options.publishTimeoutMs ?? 10_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    heartbeatSeconds: options.heartbeatSeconds ?? 15,
    reconnect: {
      initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 10_000,
    },
    drainTimeoutMs: options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
    logger: guardLogger(options.logger ?? silentBusLogger),
    connector: options.connector ?? defaultConnector,
  };
  if (config.exchange.length === 0) throw new TypeError('exchange must not be empty');
  assertNonNegativeInt('deliveryLimit', config.deliveryLimit);
  assertPositiveInt('prefetch', config.prefetch, 65_535);
  assertPositiveInt('publishTimeoutMs', config.publishTimeoutMs);
  assertPositiveInt('connectTimeoutMs', config.connectTimeoutMs);
  assertNonNegativeInt('heartbeatSeconds', config.heartbeatSeconds);
  assertPositiveInt('reconnect.initialDelayMs', config.reconnect.initialDelayMs);
  assertPositiveInt('reconnect.maxDelayMs', Math.max(config.reconnect.maxDelayMs, config.reconnect.initialDelayMs));
  assertNonNegativeInt('drainTimeoutMs', config.drainTimeoutMs);
  return config;
}
