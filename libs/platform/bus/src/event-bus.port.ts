/** A message on the bus: a JSON-serialisable payload plus routing metadata. */
export interface BusMessage<T = unknown> {
  /** Routing key, e.g. `push.user` or `event.collect`. */
  readonly topic: string;
  readonly payload: T;
  /** Set by the publisher; lets an instance ignore its own broadcasts if it wants to. */
  readonly originId?: string;
}

export type BusHandler<T = unknown> = (message: BusMessage<T>) => Promise<void>;

export interface BusSubscription {
  close(): Promise<void>;
}

/**
 * The EventBus port.
 * - broadcast: `publish` + `subscribe` — every live subscriber (every instance) receives every message
 *   whose topic matches its pattern (`*` one word, `#` zero or more words, AMQP topic semantics).
 * - work queues: `enqueue` + `consume` — each message is handled by exactly one consumer, survives a
 *   broker restart, and is redelivered when a handler throws or its consumer dies before acking.
 */
export interface EventBus {
  publish<T>(topic: string, payload: T): Promise<void>;
  subscribe<T>(pattern: string, handler: BusHandler<T>): Promise<BusSubscription>;
  enqueue<T>(queue: string, payload: T): Promise<void>;
  consume<T>(queue: string, handler: BusHandler<T>, options?: { prefetch?: number }): Promise<BusSubscription>;
  /** Throws when the bus cannot currently deliver (used by /healthz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const EVENT_BUS = Symbol('EVENT_BUS');
