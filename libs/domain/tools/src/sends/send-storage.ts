import { Injectable } from '@nestjs/common';
import { badRequest } from '@keyhaven/contracts';
import { AttachmentStorage } from '@keyhaven/domain-vault';
import { SendRepository } from './send.repository';

const GIB = 1024 * 1024 * 1024;

/**
 * File Sends count against the user's storage (ATTACHMENTS_USER_MAX_STORAGE_GB) together with the
 * attachments of their personal items, as in Bitwarden. The room is taken when the file is
 * announced, under the same per-user transaction lock the attachments take, so a Send and an
 * attachment cannot both take the last free bytes.
 */
@Injectable()
export class SendStorage {
  constructor(
    private readonly sends: SendRepository,
    private readonly attachments: AttachmentStorage,
  ) {}

  /** Call inside the transaction that inserts the file Send. */
  async reserve(userId: string, bytes: number): Promise<void> {
    await this.sends.lockUserStorage(userId);
    const { usedBytes, maxStorageGb } = await this.attachments.ofUser(userId);
    const sendBytes = await this.sends.fileBytesOfUser(userId);
    if (usedBytes + sendBytes + bytes > maxStorageGb * GIB) throw badRequest('Not enough storage available.');
  }
}
