import { Inject, Injectable, Logger } from '@nestjs/common';
import { PUSH_TOPIC, type PushMessage, type UsersPushMessage } from '@keyhaven/contracts';
import { EVENT_BUS, type EventBus } from './event-bus.port';

/** Publishes changes for the notifications service; a bus failure never fails the write that caused it. */
@Injectable()
export class PushPublisher {
  private readonly logger = new Logger('push');

  constructor(@Inject(EVENT_BUS) private readonly bus: EventBus) {}

  publish(message: PushMessage): void {
    this.bus.publish(PUSH_TOPIC, message).catch((error: unknown) => {
      this.logger.warn(`push not published: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /**
   * The same change for many users, e.g. every member of an organization whose data changed: one bus
   * message (not one per member), which each hub instance expands for the users connected to it.
   */
  publishToUsers(type: number, userIds: Iterable<string>, contextId: string | null = null): void {
    const unique = [...new Set(userIds)];
    if (unique.length === 0) return;
    const message: UsersPushMessage = { type, userIds: unique, contextId, date: new Date().toISOString() };
    this.bus.publish(PUSH_TOPIC, message).catch((error: unknown) => {
      this.logger.warn(`push not published: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
}
