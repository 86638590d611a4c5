import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { BusSubscription, EventBus } from '@keyhaven/bus';

/** The context a `@EventPattern(queue)` handler may ask for with `@Ctx()`: the queue it came from. */
export class BusContext extends BaseRpcContext<[string]> {
  get queue(): string {
    return this.args[0];
  }
}

export interface BusTransportOptions {
  /** Unacknowledged messages per queue consumer (how many a batching handler may hold). */
  readonly prefetch?: number;
  /** The queue a pattern consumes, when it is not named like the pattern (configured queue names). */
  readonly queues?: Readonly<Record<string, string>>;
}

/**
 * A Nest microservices transport over the EventBus port's work queues: every `@EventPattern(name)`
 * handler consumes the work queue `name` (a durable quorum queue on RabbitMQ, the in-process queue in
 * the all-in-one). A message is acknowledged when its handler's result settles; a handler that
 * throws (or whose observable errors) has it delivered again, up to the bus's delivery limit. So a
 * handler that returns only after its work is committed gives at-least-once processing.
 */
export class BusTransport extends Server implements CustomTransportStrategy {
  private readonly subscriptions: BusSubscription[] = [];

  constructor(
    private readonly bus: EventBus,
    private readonly options: BusTransportOptions = {},
  ) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(
      () => {
        callback();
      },
      (error: unknown) => {
        callback(error);
      },
    );
  }

  private async start(): Promise<void> {
    for (const [pattern, handler] of this.getHandlers()) {
      if (!handler.isEventHandler) continue;
      const queue = this.options.queues?.[pattern] ?? pattern;
      const subscription = await this.bus.consume(
        queue,
        async (message) => {
          const result: unknown = await handler(message.payload, new BusContext([queue]));
          await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
        },
        this.options.prefetch !== undefined ? { prefetch: this.options.prefetch } : undefined,
      );
      this.subscriptions.push(subscription);
    }
  }

  async close(): Promise<void> {
    const open = this.subscriptions.splice(0);
    await Promise.all(open.map((s) => s.close()));
  }

  on(): never {
    throw new Error('BusTransport has no status events');
  }

  unwrap<T>(): T {
    return this.bus as T;
  }
}
