import { Injectable } from '@nestjs/common';
import { EventType } from '@keyhaven/contracts';
import { EventRecorder } from '@keyhaven/db';
import { SendAuthType, SendType, type Send } from './send';

/**
 * Send events (2500s) for the owner's audit log, written in the unit of work of the change they
 * describe; call inside that transaction.
 */
@Injectable()
export class SendEvents {
  constructor(private readonly recorder: EventRecorder) {}

  created(send: Send): Promise<void> {
    const password = send.authType === SendAuthType.Password;
    const type =
      send.type === SendType.File
        ? password
          ? EventType.Send_Created_File_WithPasswordProtection
          : EventType.Send_Created_File
        : password
          ? EventType.Send_Created_Text_WithPasswordProtection
          : EventType.Send_Created_Text;
    return this.record(type, send);
  }

  updated(send: Send): Promise<void> {
    return this.record(send.type === SendType.File ? EventType.Send_Updated_File : EventType.Send_Updated_Text, send);
  }

  deleted(send: Send): Promise<void> {
    return this.record(send.type === SendType.File ? EventType.Send_Deleted_File : EventType.Send_Deleted_Text, send);
  }

  /** A recipient opened it: nobody signed in acts, so no acting user. */
  accessed(send: Send): Promise<void> {
    return this.recorder.record({
      type: send.type === SendType.File ? EventType.Send_Accessed_File : EventType.Send_Accessed_Text,
      userId: send.userId,
      sendId: send.id,
      actingUserId: null,
    });
  }

  private record(type: EventType, send: Send): Promise<void> {
    return this.recorder.record({ type, userId: send.userId, sendId: send.id });
  }
}
