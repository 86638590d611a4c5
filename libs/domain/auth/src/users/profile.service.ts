import { Injectable } from '@nestjs/common';
import { PushPublisher } from '@keyhaven/bus';
import { PushType, badRequest } from '@keyhaven/contracts';
import type { AccountKeyPair } from './account-keys';
import type { User } from './user';
import { UserRepository } from './user.repository';

/** The signed-in user's profile and settings (`api/accounts/profile`, `api/settings/domains`, …). */
@Injectable()
export class ProfileService {
  constructor(
    private readonly users: UserRepository,
    private readonly push: PushPublisher,
  ) {}

  get(userId: string): Promise<User> {
    return this.users.require(userId);
  }

  /** Milliseconds since the epoch: `bw sync` compares it with its last sync. */
  async revisionDate(userId: string): Promise<number> {
    return (await this.users.require(userId)).accountRevisionDate.getTime();
  }

  /** A culture is only replaced by another one; the name may be cleared. */
  async update(userId: string, change: { name?: string | null; culture?: string | null }): Promise<User> {
    await this.users.update(userId, {
      name: change.name ?? null,
      ...(change.culture ? { culture: change.culture } : {}),
    });
    return this.users.require(userId);
  }

  /** The SDK backfills the id of the user key after login. */
  async setUserKeyId(userId: string, userKeyId: string): Promise<void> {
    await this.users.update(userId, { user_key_id: userKeyId });
  }

  /**
   * `POST accounts/keys`: the first key pair of an account created without one (a trusted-device
   * organization's new member has no master password and gets keys this way). Never replaces keys.
   */
  async setFirstKeyPair(userId: string, pair: AccountKeyPair): Promise<User> {
    if (!(await this.users.setFirstKeyPair(userId, pair))) throw badRequest('User has existing keypair');
    // The user's other clients sync the profile, which now carries the private key.
    this.push.publishToUsers(PushType.SyncSettings, [userId]);
    return this.users.require(userId);
  }

  async updateDomains(
    userId: string,
    change: { equivalentDomains?: string[][] | null; excludedGlobalEquivalentDomains?: number[] | null },
  ): Promise<User> {
    await this.users.update(userId, {
      equivalent_domains: JSON.stringify(change.equivalentDomains ?? []),
      excluded_global_domains: JSON.stringify(change.excludedGlobalEquivalentDomains ?? []),
    });
    // The user's other clients reload their equivalent domains (autofill matching).
    this.push.publishToUsers(PushType.SyncSettings, [userId]);
    return this.users.require(userId);
  }
}
