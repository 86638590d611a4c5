import { setTimeout as sleep } from 'node:timers/promises';
import type { Options } from 'amqplib';
import type { BusHandler, BusSubscription, EventBus } from '../event-bus.port';
import { backoffDelay, errorMessage, settleWithin, withTimeout } from '../internal/timing';
import { assertPattern, assertPositiveInt, assertQueueName, assertTopic, toJson } from '../internal/validate';
import {
  type PublishTarget,
  confirmPublish,
  describeTarget,
  isPermanentAmqpError,
  withChannel,
  workQueueOptions,
} from './amqp';
import { type Attachment, type AttachmentHost, BroadcastAttachment, WorkAttachment } from './attachments';
import { ConnectionManager, type Session } from './connection-manager';
import { type RabbitMqConfig, type RabbitMqEventBusOptions, resolveOptions } from './options';

/** Pause between publish attempts on a connection that is failing but not yet reported dead. */
const RETRY_PAUSE_MS = 100;

function retryPause(deadline: number): number {
  return Math.max(1, Math.min(RETRY_PAUSE_MS, deadline - Date.now()));
}

export class RabbitMqConnectError extends Error {
  constructor(target: string, cause: unknown) {
    super(`cannot connect to RabbitMQ at ${target}: ${errorMessage(cause)}`, { cause });
    this.name = 'RabbitMqConnectError';
  }
}

/**
 * Connects once (failing fast with a RabbitMqConnectError, bounded by `connectTimeoutMs`) and returns a bus
 * that from then on reconnects by itself. Honours the URL's `?heartbeat=` for dead-peer detection.
 */
export function connectRabbitMq(url: string, options: RabbitMqEventBusOptions = {}): Promise<RabbitMqEventBus> {
  return RabbitMqEventBus.connect(url, options);
}

/**
 * The distributed EventBus. Broadcasts go through one durable topic exchange, each subscription on its own
 * exclusive server-named queue; work queues are durable quorum queues with a delivery limit. Every publish
 * waits for the broker's confirm. After a dropped connection it reconnects with capped backoff,
 * re-declares topology and re-attaches every subscription and consumer before publishes resume.
 * Delivery is at-least-once: a handler can see a work message again if its ack was lost in a reconnect.
 */
export class RabbitMqEventBus implements EventBus {
  private readonly connection: ConnectionManager;
  private readonly attachments = new Set<Attachment>();
  private readonly pendingPublishes = new Set<Promise<void>>();
  private readonly lifetime = new AbortController();
  private readonly host: AttachmentHost;
  private closing: Promise<void> | undefined;

  private constructor(
    url: string,
    private readonly config: RabbitMqConfig,
  ) {
    this.host = {
      logger: config.logger,
      drainTimeoutMs: config.drainTimeoutMs,
      attachmentLost: (attachment) => {
        this.scheduleReattach(attachment);
      },
    };
    this.connection = new ConnectionManager(url, config, {
      prepare: (session) => this.restore(session),
      ready: () => {
        // Whatever failed to re-attach during restore keeps retrying on this connection.
        for (const attachment of this.attachments) if (!attachment.attached) this.scheduleReattach(attachment);
      },
    });
  }

  static async connect(url: string, options: RabbitMqEventBusOptions = {}): Promise<RabbitMqEventBus> {
    const bus = new RabbitMqEventBus(url, resolveOptions(options));
    try {
      await bus.connection.start();
    } catch (err) {
      await bus.close();
      throw new RabbitMqConnectError(describeTarget(url), err);
    }
    return bus;
  }

  get instanceId(): string {
    return this.config.instanceId;
  }

  async publish<T>(topic: string, payload: T): Promise<void> {
    assertTopic(topic);
    const body = Buffer.from(toJson(payload));
    await this.send({ exchange: this.config.exchange, routingKey: topic }, body, `publish to "${topic}"`);
  }

  async enqueue<T>(queue: string, payload: T): Promise<void> {
    assertQueueName(queue);
    const body = Buffer.from(toJson(payload));
    await this.send({ queue }, body, `enqueue to "${queue}"`);
  }

  async subscribe<T>(pattern: string, handler: BusHandler<T>): Promise<BusSubscription> {
    assertPattern(pattern);
    // Payloads are untyped JSON on the wire; the caller's T is trusted, as with any bus.
    const attachment = new BroadcastAttachment(this.host, handler as BusHandler, this.config.exchange, pattern);
    return this.register(attachment, `subscribe to "${pattern}"`);
  }

  async consume<T>(queue: string, handler: BusHandler<T>, options?: { prefetch?: number }): Promise<BusSubscription> {
    assertQueueName(queue);
    const prefetch = options?.prefetch ?? this.config.prefetch;
    assertPositiveInt('prefetch', prefetch, 65_535);
    const attachment = new WorkAttachment(this.host, handler as BusHandler, queue, this.config.deliveryLimit, prefetch);
    return this.register(attachment, `consume from "${queue}"`);
  }

  /** A round trip on the publish channel, so a half-dead connection fails the health check too. */
  async ping(): Promise<void> {
    this.assertOpen();
    const session = this.connection.current();
    if (!session) throw new Error('RabbitMQ event bus is not connected');
    await withTimeout(
      session.publisher.checkExchange(this.config.exchange),
      this.config.publishTimeoutMs,
      `RabbitMQ did not answer within ${this.config.publishTimeoutMs} ms`,
    );
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.lifetime.abort();
    await settleWithin(this.pendingPublishes, this.config.drainTimeoutMs);
    const attachments = [...this.attachments];
    this.attachments.clear();
    for (const attachment of attachments) clearTimeout(attachment.retryTimer);
    // Closing the connection closes every channel, so attachments only stop and drain.
    await Promise.all(attachments.map((attachment) => attachment.close(false)));
    await this.connection.close();
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('event bus is closed');
  }

  private send(target: PublishTarget, body: Buffer, what: string): Promise<void> {
    this.assertOpen();
    const task = this.sendWithRetry(target, body, what);
    const tracked: Promise<void> = task.finally(() => {
      this.pendingPublishes.delete(tracked);
    });
    this.pendingPublishes.add(tracked);
    return tracked;
  }

  /** Retries across reconnects until the broker confirms or `publishTimeoutMs` runs out. */
  private async sendWithRetry(target: PublishTarget, body: Buffer, what: string): Promise<void> {
    const deadline = Date.now() + this.config.publishTimeoutMs;
    const properties: Options.Publish = {
      contentType: 'application/json',
      appId: this.config.instanceId,
      // Work messages must survive a broker restart; broadcasts go to transient queues anyway.
      persistent: 'queue' in target,
    };
    let lastError: unknown;
    for (;;) {
      let session: Session;
      try {
        session = await this.connection.waitForSession(Math.max(1, deadline - Date.now()));
      } catch (err) {
        const detail = lastError === undefined ? '' : ` (last error: ${errorMessage(lastError)})`;
        throw new Error(`RabbitMQ ${what} failed: ${errorMessage(err)}${detail}`, { cause: err });
      }
      try {
        const attempt = async (): Promise<void> => {
          if ('queue' in target) await this.declareWorkQueue(session, target.queue);
          await confirmPublish(session.publisher, target, body, properties);
        };
        await withTimeout(
          attempt(),
          deadline - Date.now(),
          `no confirm from RabbitMQ within ${this.config.publishTimeoutMs} ms`,
        );
        return;
      } catch (err) {
        if (this.closing || isPermanentAmqpError(err) || Date.now() >= deadline) {
          throw new Error(`RabbitMQ ${what} failed: ${errorMessage(err)}`, { cause: err });
        }
        lastError = err;
        try {
          await sleep(retryPause(deadline), undefined, { signal: this.lifetime.signal });
        } catch {
          throw new Error(`RabbitMQ ${what} failed: event bus is closed`, { cause: err });
        }
      }
    }
  }

  /** Declared on first use per connection; a short-lived channel keeps a 406 away from the publish channel. */
  private declareWorkQueue(session: Session, queue: string): Promise<void> {
    const known = session.declaredQueues.get(queue);
    if (known) return known;
    const declared = (async () => {
      try {
        await withChannel(session.model, (channel) =>
          channel.assertQueue(queue, workQueueOptions(this.config.deliveryLimit)),
        );
      } catch (err) {
        session.declaredQueues.delete(queue);
        throw err;
      }
    })();
    session.declaredQueues.set(queue, declared);
    return declared;
  }

  /** Attaches on the current (or next, within publishTimeoutMs) connection, then keeps it alive across reconnects. */
  private async register(attachment: Attachment, what: string): Promise<BusSubscription> {
    this.assertOpen();
    const deadline = Date.now() + this.config.publishTimeoutMs;
    for (;;) {
      let session: Session;
      try {
        session = await this.connection.waitForSession(Math.max(1, deadline - Date.now()));
        await withTimeout(
          attachment.attach(session.model),
          deadline - Date.now(),
          `RabbitMQ did not answer within ${this.config.publishTimeoutMs} ms`,
        );
        break;
      } catch (err) {
        if (this.closing || isPermanentAmqpError(err) || Date.now() >= deadline) {
          await attachment.close();
          throw new Error(`RabbitMQ ${what} failed: ${errorMessage(err)}`, { cause: err });
        }
        await sleep(retryPause(deadline));
      }
    }
    if (this.closing) {
      await attachment.close();
      throw new Error(`RabbitMQ ${what} failed: event bus is closed`);
    }
    this.attachments.add(attachment);
    // The connection may have dropped between attaching and registering.
    if (!attachment.attached) this.scheduleReattach(attachment);
    return {
      close: async () => {
        this.attachments.delete(attachment);
        clearTimeout(attachment.retryTimer);
        await attachment.close();
      },
    };
  }

  /** Runs before a new connection is handed out: every live subscription and consumer comes back first. */
  private async restore(session: Session): Promise<void> {
    const attachments = [...this.attachments];
    for (const attachment of attachments) {
      clearTimeout(attachment.retryTimer);
      attachment.retryTimer = undefined;
      attachment.retryAttempt = 0;
    }
    const results = await Promise.allSettled(attachments.map((attachment) => attachment.attach(session.model)));
    attachments.forEach((attachment, i) => {
      const result = results[i];
      if (result?.status === 'rejected' && !attachment.isClosed()) {
        const err: unknown = result.reason;
        this.config.logger.error({ err, ...attachment.context }, 'bus: could not re-attach after reconnect; retrying');
      }
    });
  }

  /** Re-attaches one subscription/consumer whose channel died while the connection stayed up. */
  private scheduleReattach(attachment: Attachment): void {
    const session = this.connection.current();
    // Without a live connection the reconnect's restore() re-attaches everything.
    if (!session || this.closing || !this.attachments.has(attachment) || attachment.retryTimer) return;
    const delay = backoffDelay(attachment.retryAttempt++, this.config.reconnect);
    attachment.retryTimer = setTimeout(() => {
      attachment.retryTimer = undefined;
      if (this.connection.current() !== session || !this.attachments.has(attachment) || attachment.attached) return;
      // Both outcomes are handled here; nothing awaits this chain.
      void attachment.attach(session.model).then(
        () => {
          attachment.retryAttempt = 0;
        },
        (err: unknown) => {
          this.config.logger.error({ err, ...attachment.context }, 'bus: re-attach failed; retrying');
          this.scheduleReattach(attachment);
        },
      );
    }, delay);
  }
}
