import { Inject, Injectable, Logger } from '@nestjs/common';
import { PUSH_TOPIC, type PushMessage } from '@keyhaven/contracts';
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

  /** One message per user, e.g. every member of an organization whose data changed. */
  publishToUsers(type: number, userIds: Iterable<string>, contextId: string | null = null): void {
    const date = new Date();
    for (const userId of new Set(userIds))
      this.publish({ type, userId, contextId, payload: { UserId: userId, Date: date } });
  }
}
