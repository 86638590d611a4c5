import { type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InProcessEventBus, type EventBus } from '@keyhaven/bus';
import { PUSH_TOPIC } from '@keyhaven/contracts';
import type { JobScheduler, PushOutbox, ScheduledJob } from '@keyhaven/db';

/** How often every instance looks for pushes that waited out a RabbitMQ outage. */
const RELAY_INTERVAL_MS = 1000;
/**
 * After this instance saw the bus down, how long it waits once it is back before relaying: each notifications
 * instance re-declares its (exclusive, server-named) push queue when its own connection comes back, up to the
 * bus's longest reconnect delay (10 s) after this one; a push relayed before that would be routed nowhere.
 */
const SETTLE_MS = 12_000;

/**
 * Relays the push outbox to the bus on every instance (rows are shared out with SKIP LOCKED), only where the
 * bus can be down (RabbitMQ): the all-in-one's in-process bus never refuses a push.
 */
export class PushOutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private job: ScheduledJob | undefined;
  private lastSeenDown: number | undefined;

  constructor(
    private readonly outbox: PushOutbox,
    private readonly bus: EventBus,
    private readonly scheduler: JobScheduler,
  ) {}

  onApplicationBootstrap(): void {
    if (this.bus instanceof InProcessEventBus) return;
    this.job = this.scheduler.schedule({
      name: 'push-outbox-relay',
      periodMs: RELAY_INTERVAL_MS,
      everyInstance: true,
      run: () => this.relay(),
    });
  }

  private async relay(): Promise<void> {
    try {
      await this.bus.ping();
    } catch {
      this.lastSeenDown = Date.now();
      return;
    }
    if (this.lastSeenDown !== undefined && Date.now() - this.lastSeenDown < SETTLE_MS) return;
    await this.outbox.relay((payload) => this.bus.publish(PUSH_TOPIC, payload));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }
}
