import type { Redis, RedisOptions } from 'ioredis';
import { type CacheLogger, silentCacheLogger } from '../logger';

export interface ConnectRedisOptions {
  /** Bound on the initial connect + handshake; also the TCP connect timeout of later reconnects. Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** Reconnect attempts a command waits through before it fails (keeps requests bounded during a blip). Default 2. */
  readonly maxRetriesPerRequest?: number;
  /** Extra ioredis options (TLS, name, …); the settings above take precedence. */
  readonly redisOptions?: RedisOptions;
  readonly logger?: CacheLogger;
}

export class RedisConnectError extends Error {
  constructor(target: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cannot connect to Redis at ${target}: ${reason}`, { cause });
    this.name = 'RedisConnectError';
  }
}

/** host:port only, so credentials in the URL never reach an error message or log. */
function describeTarget(url: string): string {
  try {
    return new URL(url).host || 'redis';
  } catch {
    return '(unparseable url)';
  }
}

function rejectAfter(ms: number, timers: { handle?: NodeJS.Timeout }): Promise<never> {
  return new Promise((_resolve, reject) => {
    timers.handle = setTimeout(() => {
      reject(new Error(`no ready reply within ${ms} ms`));
    }, ms);
  });
}

/**
 * Connects and verifies Redis once, failing fast with a RedisConnectError when it is unreachable at
 * startup. While checking, there are no retries and no offline queue; once up, the client reconnects
 * with capped backoff forever and queues commands briefly, so a Redis blip doesn't take the server down.
 */
export async function connectRedis(url: string, options: ConnectRedisOptions = {}): Promise<Redis> {
  const logger = options.logger ?? silentCacheLogger;
  const timeoutMs = options.connectTimeoutMs ?? 5_000;
  const target = describeTarget(url);
  let startingUp = true;
  let startupError: unknown;
  // Loaded here, not at import: processes on the in-memory cache never load ioredis.
  const { Redis: RedisClient } = await import('ioredis');
  const client = new RedisClient(url, {
    ...options.redisOptions,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 2,
    enableOfflineQueue: false,
    retryStrategy: (attempt: number) => (startingUp ? null : Math.min(attempt * 100, 2_000)),
  });
  // Always listen: ioredis prints unhandled 'error' events to stderr otherwise.
  client.on('error', (err: unknown) => {
    if (startingUp) startupError ??= err;
    else logger.warn({ err, redis: target }, 'redis connection error; reconnecting');
  });

  const timers: { handle?: NodeJS.Timeout } = {};
  try {
    await Promise.race([client.connect(), rejectAfter(timeoutMs, timers)]);
  } catch (err) {
    client.disconnect();
    throw new RedisConnectError(target, startupError ?? err);
  } finally {
    clearTimeout(timers.handle);
  }
  startingUp = false;
  // ioredis reads this per command, so flipping it now enables queueing during later reconnects.
  client.options.enableOfflineQueue = true;
  return client;
}
