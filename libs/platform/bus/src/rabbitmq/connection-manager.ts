import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { backoffDelay, withTimeout } from '../internal/timing';
import { closeModelQuietly, describeTarget, withHeartbeat } from './amqp';
import type { RabbitMqConfig } from './options';

/** One live connection, with the confirm channel every publish goes through. */
export class Session {
  alive = true;
  /** Work queues declared on this connection; cleared by reconnecting, so topology is re-declared. */
  readonly declaredQueues = new Map<string, Promise<void>>();

  constructor(
    readonly model: ChannelModel,
    readonly publisher: ConfirmChannel,
  ) {}
}

export interface SessionHooks {
  /** Runs on every new connection before it is handed out, so publishes wait until subscriptions are back. */
  prepare(session: Session): Promise<void>;
  /** Runs once the session is current. */
  ready(session: Session): void;
}

interface Waiter {
  resolve(session: Session): void;
  reject(err: Error): void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Owns the AMQP connection: opens it, notices when it drops, and reconnects with capped exponential
 * backoff forever (until closed). A broken publisher channel recycles the whole connection, which
 * re-declares everything — the simplest way to heal e.g. a deleted exchange.
 */
export class ConnectionManager {
  private session: Session | null = null;
  private closed = false;
  private loop: Promise<void> | null = null;
  private readonly lifetime = new AbortController();
  private readonly waiters = new Set<Waiter>();
  private readonly target: string;

  private readonly url: string;

  constructor(
    url: string,
    private readonly config: RabbitMqConfig,
    private readonly hooks: SessionHooks,
  ) {
    this.target = describeTarget(url);
    this.url = config.heartbeatSeconds > 0 ? withHeartbeat(url, config.heartbeatSeconds) : url;
  }

  /** The first connection: a single attempt, so startup fails fast when the broker is unreachable. */
  async start(): Promise<void> {
    await this.establish();
  }

  /** A method, not a property read, so TypeScript doesn't narrow it across awaits. */
  private isClosed(): boolean {
    return this.closed;
  }

  current(): Session | null {
    return this.session;
  }

  /** The current session, or the next one if a reconnect completes within `timeoutMs`. */
  waitForSession(timeoutMs: number): Promise<Session> {
    if (this.closed) return Promise.reject(new Error('event bus is closed'));
    if (this.session) return Promise.resolve(this.session);
    return new Promise<Session>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`RabbitMQ at ${this.target} is not connected (waited ${timeoutMs} ms for a reconnect)`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Drops a session's connection so the reconnect loop rebuilds everything. */
  recycle(session: Session, reason: string): void {
    if (!session.alive || this.closed) return;
    this.config.logger.warn({ rabbitmq: this.target, reason }, 'bus: recycling RabbitMQ connection');
    void closeModelQuietly(session.model); // never rejects; its 'close' event drives the reconnect
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.abort();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('event bus is closed'));
    }
    this.waiters.clear();
    await this.loop; // an attempt in flight ends within connectTimeoutMs and closes what it opened
    const session = this.session;
    this.session = null;
    if (session) {
      session.alive = false;
      await closeModelQuietly(session.model, this.config.drainTimeoutMs);
    }
  }

  private async establish(): Promise<void> {
    const model = await this.config.connector(this.url, {
      timeout: this.config.connectTimeoutMs,
      clientProperties: { connection_name: `keyhaven-bus:${this.config.instanceId}` },
    });
    // An object, because the 'close' listener flips it behind TypeScript's back (a `let` would narrow).
    const link: { session: Session | null; dropped: boolean } = { session: null, dropped: false };
    // Without an 'error' listener amqplib's emit would throw and crash the process.
    model.on('error', (err: Error) => {
      this.config.logger.warn({ err, rabbitmq: this.target }, 'bus: RabbitMQ connection error');
    });
    model.on('close', (err?: Error) => {
      link.dropped = true;
      if (link.session) this.lost(link.session, err);
    });
    model.on('blocked', (reason: string) => {
      this.config.logger.warn({ rabbitmq: this.target, reason }, 'bus: RabbitMQ blocked publishing (resource alarm)');
    });
    try {
      // Bounded like a publish: a connection that stalls mid-setup is abandoned and retried.
      const session = await withTimeout(
        this.setUp(model, link),
        this.config.publishTimeoutMs,
        `RabbitMQ did not finish connection setup within ${this.config.publishTimeoutMs} ms`,
      );
      if (this.isClosed() || link.dropped) throw new Error('connection closed while it was being set up');
      this.session = session;
      for (const waiter of this.waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve(session);
      }
      this.waiters.clear();
      this.hooks.ready(session);
    } catch (err) {
      if (link.session) link.session.alive = false;
      await closeModelQuietly(model);
      throw err;
    }
  }

  /** The publish channel, the exchange, then the caller's restore — everything before the session is handed out. */
  private async setUp(model: ChannelModel, link: { session: Session | null }): Promise<Session> {
    const publisher = await model.createConfirmChannel();
    const session = new Session(model, publisher);
    link.session = session;
    publisher.on('error', (err: Error) => {
      this.config.logger.warn({ err, rabbitmq: this.target }, 'bus: RabbitMQ publish channel error');
    });
    publisher.on('close', () => {
      // amqplib closes channels just before emitting the connection's 'close'; wait a microtask so a
      // dropped connection is handled as such, and only a lone channel failure recycles.
      queueMicrotask(() => {
        this.recycle(session, 'publish channel closed');
      });
    });
    await publisher.assertExchange(this.config.exchange, 'topic', { durable: true });
    await this.hooks.prepare(session);
    return session;
  }

  private lost(session: Session, err: Error | undefined): void {
    if (!session.alive) return;
    session.alive = false;
    if (this.session !== session) return; // still being set up: establish() notices and fails
    this.session = null;
    if (this.closed) return;
    this.config.logger.warn({ err, rabbitmq: this.target }, 'bus: RabbitMQ connection lost; reconnecting');
    this.loop ??= this.reconnect().finally(() => {
      this.loop = null;
    });
  }

  /** Never rejects: retries until connected or closed. */
  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.isClosed(); attempt++) {
      try {
        await sleep(backoffDelay(attempt, this.config.reconnect), undefined, { signal: this.lifetime.signal });
      } catch {
        return; // aborted by close()
      }
      try {
        await this.establish();
        return;
      } catch (err) {
        if (this.isClosed()) return;
        this.config.logger.warn(
          { err, rabbitmq: this.target, attempt: attempt + 1 },
          'bus: RabbitMQ reconnect failed; retrying',
        );
      }
    }
  }
}
