import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { PUSH_TOPIC, type PushMessage, type UsersPushMessage } from '@keyhaven/contracts';
import { EVENT_BUS, type EventBus } from './event-bus.port';
import { PUSH_OUTBOX, type PushOutbox } from './push-outbox.port';

/**
 * Publishes changes for the notifications service; a bus failure never fails the write that caused it. A push
 * the bus refuses (RabbitMQ down for longer than a publish waits through a reconnect) waits in the push outbox,
 * when there is one, and is relayed once the bus is back.
 */
@Injectable()
export class PushPublisher {
  private readonly logger = new Logger('push');

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Optional() @Inject(PUSH_OUTBOX) private readonly outbox?: PushOutbox,
  ) {}

  publish(message: PushMessage): void {
    this.send(message);
  }

  /**
   * The same change for many users, e.g. every member of an organization whose data changed: one bus
   * message (not one per member), which each hub instance expands for the users connected to it. With a
   * `payload` every user gets that payload (an organization item's change), else their own `{ UserId, Date }`.
   */
  publishToUsers(
    type: number,
    userIds: Iterable<string>,
    contextId: string | null = null,
    payload?: Record<string, unknown>,
  ): void {
    const unique = [...new Set(userIds)];
    if (unique.length === 0) return;
    const date = new Date().toISOString();
    const message: UsersPushMessage = { type, userIds: unique, contextId, date, ...(payload ? { payload } : {}) };
    this.send(message);
  }

  private send(message: PushMessage | UsersPushMessage): void {
    this.bus.publish(PUSH_TOPIC, message).catch(async (error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      if (this.outbox) {
        try {
          await this.outbox.store(message);
          this.logger.warn(`push kept in the outbox until the bus is back: ${reason}`);
          return;
        } catch {
          // The database is out as well: the push is lost; the clients catch up at their next sync.
        }
      }
      this.logger.warn(`push not published: ${reason}`);
    });
  }
}
