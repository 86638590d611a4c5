import { Injectable } from '@nestjs/common';
import { EmergencyAccessRecoveryService } from '@keyhaven/domain-auth';
import { AttachmentService } from '../attachments/attachment.service';
import { CipherAccessRepository } from '../ciphers/cipher-access.repository';
import { accessibleCipherJson } from '../ciphers/cipher';

/**
 * What an emergency contact with an approved View grant reads of the grantor's vault: the wrapped key,
 * the grantor's personal items and their attachments — never the grantor's organization items, which
 * the organization did not share with the contact.
 */
@Injectable()
export class EmergencyVaultService {
  constructor(
    private readonly recovery: EmergencyAccessRecoveryService,
    private readonly ciphers: CipherAccessRepository,
    private readonly attachments: AttachmentService,
  ) {}

  /** `POST emergency-access/{id}/view`. */
  async view(granteeId: string, grantId: string): Promise<Record<string, unknown>> {
    const grant = await this.recovery.requireViewable(granteeId, grantId);
    const personal = (await this.ciphers.listForUser(grant.grantorId)).filter((c) => c.cipher.organizationId === null);
    return {
      keyEncrypted: grant.keyEncrypted,
      ciphers: personal.map(accessibleCipherJson),
      object: 'emergencyAccessView',
    };
  }

  /** `GET emergency-access/{id}/{cipherId}/attachment/{attachmentId}`: metadata with a signed download link. */
  async attachment(
    granteeId: string,
    grantId: string,
    cipherId: string,
    attachmentId: string,
  ): Promise<Record<string, unknown>> {
    const grant = await this.recovery.requireViewable(granteeId, grantId);
    return this.attachments.getPersonal(grant.grantorId, cipherId, attachmentId);
  }
}
