import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_BUS, type BusSubscription, type EventBus } from '@keyhaven/bus';
import { PUSH_TOPIC, type PushMessage, type UsersPushMessage } from '@keyhaven/contracts';
import { HubConnections } from './hub-connections';

function isPush(value: unknown): value is PushMessage {
  if (typeof value !== 'object' || value === null) return false;
  const push = value as Record<string, unknown>;
  return (
    typeof push['type'] === 'number' &&
    typeof push['userId'] === 'string' &&
    (push['contextId'] === null || typeof push['contextId'] === 'string') &&
    typeof push['payload'] === 'object' &&
    push['payload'] !== null
  );
}

function isUsersPush(value: unknown): value is UsersPushMessage {
  if (typeof value !== 'object' || value === null) return false;
  const push = value as Record<string, unknown>;
  return (
    typeof push['type'] === 'number' &&
    Array.isArray(push['userIds']) &&
    push['userIds'].every((id) => typeof id === 'string') &&
    (push['contextId'] === null || typeof push['contextId'] === 'string') &&
    typeof push['date'] === 'string' &&
    (push['payload'] === undefined || (typeof push['payload'] === 'object' && push['payload'] !== null))
  );
}

/**
 * Every instance hears every push: `subscribe` gives this process its own exclusive queue on the RabbitMQ
 * topic exchange (in the all-in-one, the in-process bus), so any api instance's change reaches the clients
 * connected here without sticky sessions. Messages published while this instance is down are not kept:
 * clients reconnect and sync.
 */
@Injectable()
export class PushFanout implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('notifications');
  private subscription: BusSubscription | undefined;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly connections: HubConnections,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe<unknown>(PUSH_TOPIC, (message) => {
      if (isPush(message.payload)) this.connections.deliver(message.payload);
      else if (isUsersPush(message.payload)) this.connections.deliverToUsers(message.payload);
      else this.logger.warn('ignored a malformed push message');
      return Promise.resolve();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.close().catch(() => undefined);
  }
}
