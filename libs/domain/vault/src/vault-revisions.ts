import { Injectable } from '@nestjs/common';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import type { Cipher } from './ciphers/cipher';

/**
 * Which accounts' clients must sync after a vault change. The revision date itself is auth's
 * (`app_user`): the vault only says whose, through auth's AccountRevisionService.
 */
@Injectable()
export class VaultRevisions {
  constructor(private readonly accounts: AccountRevisionService) {}

  user(userId: string): Promise<void> {
    return this.accounts.touchUsers([userId]);
  }

  /** Org items changed: every member's clients should sync. */
  organization(organizationId: string): Promise<void> {
    return this.accounts.touchOrganizationMembers(organizationId);
  }

  /** The owner of a personal item, or every member of the item's organization. */
  async ownerOf(cipher: Pick<Cipher, 'organizationId'>, userId: string): Promise<void> {
    if (cipher.organizationId) await this.organization(cipher.organizationId);
    else await this.user(userId);
  }
}
