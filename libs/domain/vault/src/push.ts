import { Inject, Injectable, Logger } from '@nestjs/common';
import { EVENT_BUS, type EventBus } from '@keyhaven/bus';

/** Bitwarden's push types, as the notifications hub sends them to clients. */
export const PushType = {
  SyncCipherUpdate: 0,
  SyncCipherCreate: 1,
  SyncLoginDelete: 2,
  SyncFolderDelete: 3,
  SyncCiphers: 4,
  SyncVault: 5,
  SyncFolderCreate: 7,
  SyncFolderUpdate: 8,
  SyncCipherDelete: 9,
  SyncSettings: 10,
  LogOut: 11,
} as const;

export interface PushMessage {
  readonly type: number;
  readonly userId: string;
  /** The acting device, so the hub can skip echoing a change back to its author. */
  readonly contextId: string | null;
  readonly payload: Record<string, unknown>;
}

export const PUSH_TOPIC = 'push.user';

/** Publishes vault changes for the notifications service; a bus failure never fails the write. */
@Injectable()
export class PushPublisher {
  private readonly logger = new Logger('push');

  constructor(@Inject(EVENT_BUS) private readonly bus: EventBus) {}

  publish(message: PushMessage): void {
    this.bus.publish(PUSH_TOPIC, message).catch((error: unknown) => {
      this.logger.warn(`push not published: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
}
