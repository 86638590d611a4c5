import { randomUUID } from 'node:crypto';
import type { BusHandler, BusMessage, BusSubscription, EventBus } from '../event-bus.port';
import { DEFAULT_DELIVERY_LIMIT, DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_PREFETCH } from '../internal/defaults';
import { type TopicMatcher, compilePattern } from '../internal/topic-pattern';
import { settleWithin } from '../internal/timing';
import {
  assertNonNegativeInt,
  assertPattern,
  assertPositiveInt,
  assertQueueName,
  assertTopic,
  fromJson,
  toJson,
} from '../internal/validate';
import { type BusLogger, guardLogger, silentBusLogger } from '../logger';

export interface InProcessEventBusOptions {
  /** Stamped on every message as `originId`. Default: a random UUID. */
  readonly instanceId?: string;
  /** Like RabbitMQ's `x-delivery-limit`: a failing work message is redelivered at most this many times, then dropped. Default 5. */
  readonly deliveryLimit?: number;
  /** Default per-consumer cap on concurrently running work handlers. Default 10. */
  readonly prefetch?: number;
  /** How long `close()` waits for running handlers. Default 5 s. */
  readonly drainTimeoutMs?: number;
  readonly logger?: BusLogger;
}

interface Envelope {
  readonly body: string;
  /** Deliveries so far; the message is dropped once a delivery past the limit fails. */
  deliveries: number;
}

interface LocalSubscription {
  readonly matches: TopicMatcher;
  readonly handler: BusHandler;
  readonly pattern: string;
  readonly inFlight: Set<Promise<void>>;
  closed: boolean;
}

interface LocalConsumer {
  readonly handler: BusHandler;
  readonly prefetch: number;
  readonly inFlight: Set<Promise<void>>;
  closed: boolean;
}

interface LocalQueue {
  readonly name: string;
  readonly pending: Envelope[];
  readonly consumers: LocalConsumer[];
  /** Round-robin cursor into `consumers`. */
  next: number;
  dispatchScheduled: boolean;
}

/**
 * The all-in-one EventBus: everything lives in this process's memory. Handlers always run on a later
 * turn of the event loop (never inside `publish`/`enqueue`), and their errors are logged, never thrown.
 * Work messages waiting for a consumer are lost when the process exits — the price of having no broker.
 */
export class InProcessEventBus implements EventBus {
  readonly instanceId: string;
  private readonly deliveryLimit: number;
  private readonly prefetch: number;
  private readonly drainTimeoutMs: number;
  private readonly logger: BusLogger;
  private readonly subscriptions = new Set<LocalSubscription>();
  private readonly queues = new Map<string, LocalQueue>();
  private closing: Promise<void> | undefined;

  constructor(options: InProcessEventBusOptions = {}) {
    this.instanceId = options.instanceId ?? randomUUID();
    this.deliveryLimit = options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT;
    this.prefetch = options.prefetch ?? DEFAULT_PREFETCH;
    this.drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    assertNonNegativeInt('deliveryLimit', this.deliveryLimit);
    assertPositiveInt('prefetch', this.prefetch);
    this.logger = guardLogger(options.logger ?? silentBusLogger);
  }

  async publish<T>(topic: string, payload: T): Promise<void> {
    this.assertOpen();
    assertTopic(topic);
    const body = toJson(payload);
    for (const sub of this.subscriptions) {
      if (!sub.matches(topic)) continue;
      setImmediate(() => {
        this.runSubscriber(sub, topic, body);
      });
    }
    await Promise.resolve();
  }

  async subscribe<T>(pattern: string, handler: BusHandler<T>): Promise<BusSubscription> {
    this.assertOpen();
    assertPattern(pattern);
    const sub: LocalSubscription = {
      matches: compilePattern(pattern),
      // Payloads are untyped JSON on the wire; the caller's T is trusted, as with any bus.
      handler: handler as BusHandler,
      pattern,
      inFlight: new Set(),
      closed: false,
    };
    this.subscriptions.add(sub);
    await Promise.resolve();
    return {
      close: async () => {
        sub.closed = true;
        this.subscriptions.delete(sub);
        await settleWithin(sub.inFlight, this.drainTimeoutMs);
      },
    };
  }

  async enqueue<T>(queue: string, payload: T): Promise<void> {
    this.assertOpen();
    assertQueueName(queue);
    const q = this.queue(queue);
    q.pending.push({ body: toJson(payload), deliveries: 0 });
    this.scheduleDispatch(q);
    await Promise.resolve();
  }

  async consume<T>(queue: string, handler: BusHandler<T>, options?: { prefetch?: number }): Promise<BusSubscription> {
    this.assertOpen();
    assertQueueName(queue);
    const prefetch = options?.prefetch ?? this.prefetch;
    assertPositiveInt('prefetch', prefetch);
    const q = this.queue(queue);
    const consumer: LocalConsumer = {
      handler: handler as BusHandler,
      prefetch,
      inFlight: new Set(),
      closed: false,
    };
    q.consumers.push(consumer);
    this.scheduleDispatch(q);
    await Promise.resolve();
    return {
      close: async () => {
        consumer.closed = true;
        const index = q.consumers.indexOf(consumer);
        if (index >= 0) q.consumers.splice(index, 1);
        await settleWithin(consumer.inFlight, this.drainTimeoutMs);
      },
    };
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await Promise.resolve();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const running: Promise<void>[] = [];
    for (const sub of this.subscriptions) {
      sub.closed = true;
      running.push(...sub.inFlight);
    }
    this.subscriptions.clear();
    for (const q of this.queues.values()) {
      for (const c of q.consumers) {
        c.closed = true;
        running.push(...c.inFlight);
      }
      q.consumers.length = 0;
      if (q.pending.length > 0) {
        this.logger.warn(
          { queue: q.name, count: q.pending.length },
          'bus: dropping undelivered work messages on close',
        );
      }
    }
    this.queues.clear();
    await settleWithin(running, this.drainTimeoutMs);
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('event bus is closed');
  }

  private queue(name: string): LocalQueue {
    let q = this.queues.get(name);
    if (!q) {
      q = { name, pending: [], consumers: [], next: 0, dispatchScheduled: false };
      this.queues.set(name, q);
    }
    return q;
  }

  private runSubscriber(sub: LocalSubscription, topic: string, body: string): void {
    if (sub.closed) return;
    // Each subscriber parses its own copy, so one handler can't mutate what another sees.
    const message: BusMessage = { topic, payload: fromJson(body), originId: this.instanceId };
    const task: Promise<void> = this.invoke(sub.handler, message)
      .catch((err: unknown) => {
        this.logger.error({ err, pattern: sub.pattern, topic }, 'bus: subscriber failed');
      })
      .finally(() => {
        sub.inFlight.delete(task);
      });
    sub.inFlight.add(task);
  }

  private scheduleDispatch(q: LocalQueue): void {
    if (q.dispatchScheduled) return;
    q.dispatchScheduled = true;
    setImmediate(() => {
      q.dispatchScheduled = false;
      this.dispatch(q);
    });
  }

  /** Hands pending messages to consumers with spare capacity, round-robin. */
  private dispatch(q: LocalQueue): void {
    if (this.closing) return;
    while (q.pending.length > 0) {
      const consumer = this.nextConsumer(q);
      if (!consumer) return;
      const envelope = q.pending.shift();
      if (envelope) this.runConsumer(q, consumer, envelope);
    }
  }

  private nextConsumer(q: LocalQueue): LocalConsumer | undefined {
    const count = q.consumers.length;
    for (let i = 0; i < count; i++) {
      const index = (q.next + i) % count;
      const consumer = q.consumers[index];
      if (consumer === undefined) continue;
      if (consumer.inFlight.size < consumer.prefetch) {
        q.next = (index + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }

  private runConsumer(q: LocalQueue, consumer: LocalConsumer, envelope: Envelope): void {
    envelope.deliveries += 1;
    const message: BusMessage = { topic: q.name, payload: fromJson(envelope.body), originId: this.instanceId };
    const task: Promise<void> = this.invoke(consumer.handler, message)
      .catch((err: unknown) => {
        this.handleWorkFailure(q, envelope, err);
      })
      .finally(() => {
        consumer.inFlight.delete(task);
        this.scheduleDispatch(q);
      });
    consumer.inFlight.add(task);
  }

  private handleWorkFailure(q: LocalQueue, envelope: Envelope, err: unknown): void {
    if (envelope.deliveries > this.deliveryLimit) {
      this.logger.error(
        { err, queue: q.name, deliveries: envelope.deliveries },
        'bus: work message dropped after reaching the delivery limit',
      );
      return;
    }
    this.logger.warn({ err, queue: q.name, deliveries: envelope.deliveries }, 'bus: work handler failed; redelivering');
    // Back at the head, like a requeued message on the broker.
    if (!this.closing) q.pending.unshift(envelope);
  }

  /** Also turns a handler's synchronous throw into a rejection. */
  private async invoke(handler: BusHandler, message: BusMessage): Promise<void> {
    await handler(message);
  }
}
