import { Injectable } from '@nestjs/common';
import { PushPublisher } from '@keyhaven/bus';
import { PushType } from '@keyhaven/contracts';
import type { Cipher } from './ciphers/cipher';

/** The push messages the vault sends after a commit, in the payload shapes the clients read. */
@Injectable()
export class VaultPush {
  constructor(private readonly push: PushPublisher) {}

  cipher(type: number, userId: string, deviceId: string | null, cipher: Cipher): void {
    this.push.publish({
      type,
      userId,
      contextId: deviceId,
      payload: {
        Id: cipher.id,
        UserId: userId,
        OrganizationId: cipher.organizationId,
        CollectionIds: null,
        RevisionDate: cipher.revisionDate,
      },
    });
  }

  /** One message per id: `SyncCipherUpdate` after a soft delete, `SyncLoginDelete` after a purge of items. */
  cipherIds(type: number, userId: string, deviceId: string | null, ids: readonly string[]): void {
    for (const id of ids) this.push.publish({ type, userId, contextId: deviceId, payload: { Id: id, UserId: userId } });
  }

  folder(type: number, userId: string, id: string, revisionDate: Date, contextId: string | null): void {
    this.push.publish({
      type,
      userId,
      contextId,
      payload: { Id: id, UserId: userId, RevisionDate: revisionDate },
    });
  }

  /** Many items changed at once: the clients re-read their ciphers. */
  ciphers(userId: string): void {
    this.push.publish({
      type: PushType.SyncCiphers,
      userId,
      contextId: null,
      payload: { UserId: userId, Date: new Date() },
    });
  }

  /** The whole vault changed (import, purge): the clients run a full sync. */
  vault(userId: string): void {
    this.push.publish({
      type: PushType.SyncVault,
      userId,
      contextId: null,
      payload: { UserId: userId, Date: new Date() },
    });
  }
}
