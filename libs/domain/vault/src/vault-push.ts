import { Injectable, Logger } from '@nestjs/common';
import { PushPublisher } from '@keyhaven/bus';
import { PushType } from '@keyhaven/contracts';
import type { Cipher } from './ciphers/cipher';
import { CipherAudienceRepository, type CipherAudience } from './ciphers/cipher-audience.repository';

/**
 * The push messages the vault sends after a commit, in the payload shapes the clients read. A personal
 * item's change goes to its owner; an organization item's to everyone who can see it, as one bus message
 * per item whatever the member count, with `UserId: null` and the item's `CollectionIds` (the clients
 * re-fetch it if they reach one of those collections). ContextId is always the acting device, which skips
 * its own change. A push never fails the write: one that cannot be addressed is logged and dropped.
 */
@Injectable()
export class VaultPush {
  private readonly logger = new Logger('push');

  constructor(
    private readonly push: PushPublisher,
    private readonly audiences: CipherAudienceRepository,
  ) {}

  /** One item just written, as the caller read it back in its transaction. */
  async cipher(type: number, userId: string, deviceId: string | null, cipher: Cipher): Promise<void> {
    if (cipher.organizationId === null) {
      this.push.publish({ type, userId, contextId: deviceId, payload: personalPayload(cipher.id, userId, cipher) });
      return;
    }
    await this.cipherIds(type, userId, deviceId, [cipher.id]);
  }

  /** Items changed in a committed transaction (trash, restore, an attachment): one query for the batch. */
  async cipherIds(type: number, userId: string, deviceId: string | null, ids: readonly string[]): Promise<void> {
    const audiences = await this.audienceOf(ids);
    this.toAudiences(type, userId, deviceId, audiences ?? []);
  }

  /**
   * Who sees the items now: after a commit, or inside the transaction before a change that removes them
   * (a permanent delete) or some of their readers (new collections). Null when it could not be read.
   */
  async audienceOf(ids: readonly string[]): Promise<CipherAudience[] | null> {
    try {
      return await this.audiences.of(ids);
    } catch (error) {
      this.logger.warn(`item pushes not addressed: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  }

  /** Personal items to their owner (the acting user: only owners edit them), organization items to their readers. */
  toAudiences(type: number, userId: string, deviceId: string | null, audiences: readonly CipherAudience[]): void {
    for (const audience of audiences) {
      if (audience.organizationId === null) {
        const owner = audience.userId ?? userId;
        const payload = personalPayload(audience.id, owner, audience);
        this.push.publish({ type, userId: owner, contextId: deviceId, payload });
      } else this.push.publishToUsers(type, audience.userIds, deviceId, orgPayload(audience));
    }
  }

  /**
   * Personal items moved into an organization: the old owner's clients replace their copy (or drop it, if
   * the owner cannot see it in the organization), every other reader's fetch it as new.
   */
  async shared(userId: string, deviceId: string | null, ids: readonly string[]): Promise<void> {
    for (const audience of (await this.audienceOf(ids)) ?? []) {
      const payload = orgPayload(audience);
      const others = audience.userIds.filter((id) => id !== userId);
      this.push.publishToUsers(PushType.SyncCipherCreate, others, deviceId, payload);
      const sees = audience.userIds.includes(userId);
      const type = sees ? PushType.SyncCipherUpdate : PushType.SyncLoginDelete;
      this.push.publish({ type, userId, contextId: deviceId, payload });
    }
  }

  /**
   * An item's collections changed: its readers now re-fetch it, and those who could see it before but no
   * longer can drop it (`SyncLoginDelete` for that one item, not a full sync).
   */
  async collectionsChanged(
    userId: string,
    deviceId: string | null,
    before: readonly CipherAudience[] | null,
    id: string,
  ): Promise<void> {
    const after = await this.audienceOf([id]);
    if (!after) return;
    this.toAudiences(PushType.SyncCipherUpdate, userId, deviceId, after);
    const now = new Set(after.flatMap((a) => a.userIds));
    for (const audience of before ?? []) {
      const lost = audience.userIds.filter((reader) => !now.has(reader));
      this.push.publishToUsers(PushType.SyncLoginDelete, lost, deviceId, orgPayload(audience));
    }
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

  /** Many of an organization's items changed (an import, a purge): every confirmed member's clients run a full sync. */
  async organizationVault(organizationId: string): Promise<void> {
    try {
      this.push.publishToUsers(PushType.SyncVault, await this.audiences.membersOf(organizationId));
    } catch (error) {
      this.logger.warn(`organization sync not pushed: ${error instanceof Error ? error.message : String(error)}`);
    }
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

function personalPayload(
  id: string,
  userId: string,
  cipher: { readonly organizationId: string | null; readonly revisionDate: Date },
): Record<string, unknown> {
  return {
    Id: id,
    UserId: userId,
    OrganizationId: cipher.organizationId,
    CollectionIds: null,
    RevisionDate: cipher.revisionDate,
  };
}

function orgPayload(audience: CipherAudience): Record<string, unknown> {
  return {
    Id: audience.id,
    UserId: null,
    OrganizationId: audience.organizationId,
    CollectionIds: audience.collectionIds,
    RevisionDate: audience.revisionDate,
  };
}
