import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { badRequest } from '@keyhaven/contracts';
import type { Cipher } from '../ciphers/cipher';
import { AttachmentRepository } from './attachment.repository';

const GIB = 1024 * 1024 * 1024;

/**
 * Storage limits: a user's personal items share ATTACHMENTS_USER_MAX_STORAGE_GB, an organization's
 * items ATTACHMENTS_ORG_MAX_STORAGE_GB. Use is the sum of the attachment rows (pending ones at their
 * declared size, so an upload's room is taken when it is announced), read under a per-owner
 * transaction lock so two uploads cannot both take the last free bytes.
 */
@Injectable()
export class AttachmentStorage {
  constructor(
    private readonly attachments: AttachmentRepository,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** Call inside the transaction that inserts the attachment. */
  async reserve(cipher: Pick<Cipher, 'organizationId' | 'userId'>, userId: string, bytes: number): Promise<void> {
    const organizationId = cipher.organizationId;
    const limitGb = organizationId
      ? this.config.ATTACHMENTS_ORG_MAX_STORAGE_GB
      : this.config.ATTACHMENTS_USER_MAX_STORAGE_GB;
    if (organizationId && limitGb === 0) throw badRequest('This organization cannot use attachments.');
    const owner = organizationId ?? cipher.userId ?? userId;
    await this.attachments.lockStorage(owner);
    // A user's file Sends share their storage (Bitwarden's accounting); tools' SendStorage counts both too.
    const used = organizationId
      ? await this.attachments.usedByOrganization(organizationId)
      : (await this.attachments.usedByUser(owner)) + (await this.attachments.fileSendBytesOfUser(owner));
    if (used + bytes > limitGb * GIB) throw badRequest('Not enough storage available.');
  }

  /** Bytes the user's personal attachments take (file Sends not included) and the limit in GiB. */
  async ofUser(userId: string): Promise<{ usedBytes: number; maxStorageGb: number }> {
    return {
      usedBytes: await this.attachments.usedByUser(userId),
      maxStorageGb: this.config.ATTACHMENTS_USER_MAX_STORAGE_GB,
    };
  }

  get organizationMaxStorageGb(): number {
    return this.config.ATTACHMENTS_ORG_MAX_STORAGE_GB;
  }
}
