import { Injectable } from '@nestjs/common';
import { UserRepository } from './user.repository';

/**
 * The account revision date the clients poll (`GET accounts/revision-date`) before a full sync. It
 * lives on `app_user`, which only this domain writes: the vault and the admin console ask this
 * service to move it when something a user's clients must re-read has changed.
 */
@Injectable()
export class AccountRevisionService {
  constructor(private readonly users: UserRepository) {}

  /** The given users' clients should sync. One statement whatever the number. */
  async touchUsers(userIds: readonly string[]): Promise<void> {
    await this.users.touchAccountRevisions(userIds);
  }

  /** Something every member of the organization reaches changed (org items, collections, access). */
  async touchOrganizationMembers(organizationId: string): Promise<void> {
    await this.users.touchOrganizationMembersRevision(organizationId);
  }
}
