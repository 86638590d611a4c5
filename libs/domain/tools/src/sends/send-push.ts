import { Injectable } from '@nestjs/common';
import { PushPublisher } from '@keyhaven/bus';
import { PushType } from '@keyhaven/contracts';
import type { Send } from './send';

/** SyncSendCreate / Update / Delete to the owner's clients, after the change committed. */
@Injectable()
export class SendPush {
  constructor(private readonly push: PushPublisher) {}

  created(send: Send, contextId: string | null): void {
    this.publish(PushType.SyncSendCreate, send, contextId);
  }

  updated(send: Send, contextId: string | null): void {
    this.publish(PushType.SyncSendUpdate, send, contextId);
  }

  deleted(send: Send, contextId: string | null): void {
    this.publish(PushType.SyncSendDelete, send, contextId);
  }

  private publish(type: number, send: Send, contextId: string | null): void {
    this.push.publish({
      type,
      userId: send.userId,
      contextId,
      payload: { Id: send.id, UserId: send.userId, RevisionDate: send.revisionDate },
    });
  }
}
