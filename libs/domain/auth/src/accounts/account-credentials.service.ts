import { Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { UserRepository } from '../users/user.repository';
import { AccountsService, type kdfChangeSchema, type passwordChangeSchema } from './accounts.service';

/**
 * The signed-in user's own credential commands (`api/accounts/*`): each proves the master password
 * first, then changes or reveals a secret of the account.
 */
@Injectable()
export class AccountCredentialsService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly users: UserRepository,
  ) {}

  async verifyPassword(userId: string, masterPasswordHash: string | null | undefined): Promise<void> {
    await this.accounts.verifyMasterPassword(userId, masterPasswordHash);
  }

  async apiKey(
    userId: string,
    masterPasswordHash: string | null | undefined,
  ): Promise<{ apiKey: string; revisionDate: Date }> {
    const user = await this.accounts.verifyMasterPassword(userId, masterPasswordHash);
    return { apiKey: user.apiKey, revisionDate: user.revisionDate };
  }

  async rotateApiKey(userId: string, masterPasswordHash: string | null | undefined): Promise<string> {
    return this.accounts.rotateApiKey(await this.accounts.verifyMasterPassword(userId, masterPasswordHash));
  }

  /** "Log out everywhere". */
  async logOutEverywhere(userId: string, masterPasswordHash: string | null | undefined): Promise<void> {
    await this.accounts.rotateSecurityStamp(await this.accounts.verifyMasterPassword(userId, masterPasswordHash));
  }

  async changePassword(userId: string, body: z.infer<typeof passwordChangeSchema>): Promise<void> {
    await this.accounts.changePassword(await this.users.require(userId), body);
  }

  async changeKdf(userId: string, body: z.infer<typeof kdfChangeSchema>): Promise<void> {
    await this.accounts.changeKdf(await this.users.require(userId), body);
  }
}
