import { Injectable } from '@nestjs/common';
import { SyncService } from '@keyhaven/domain-vault';
import { SendRepository } from '../sends/send.repository';
import { sendJson } from '../sends/send';

/**
 * `GET api/sync` with the user's Sends. The vault builds the sync and may not depend on tools, so
 * tools composes it: the vault's sections and this user's Sends, read side by side.
 */
@Injectable()
export class SyncWithSendsService {
  constructor(
    private readonly vaultSync: SyncService,
    private readonly sends: SendRepository,
  ) {}

  async sync(userId: string, excludeDomains: boolean): Promise<Record<string, unknown>> {
    const [vault, sends] = await Promise.all([
      this.vaultSync.sync(userId, excludeDomains),
      this.sends.listForUser(userId),
    ]);
    return { ...vault, sends: sends.map(sendJson) };
  }
}
