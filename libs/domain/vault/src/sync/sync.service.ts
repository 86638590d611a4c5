import { Injectable } from '@nestjs/common';
import { notFound } from '@keyhaven/contracts';
import { UserRepository, profileJson, userDecryptionJson } from '@keyhaven/domain-auth';
import { cipherJson } from '../ciphers/cipher';
import { CipherRepository } from '../ciphers/cipher.repository';
import { FolderRepository } from '../folders/folder.repository';
import { folderJson } from '../vault.service';

export function domainsJson(user: {
  equivalentDomains: string[][] | null;
  excludedGlobalDomains: number[] | null;
}): Record<string, unknown> {
  return { equivalentDomains: user.equivalentDomains ?? [], globalEquivalentDomains: [], object: 'domains' };
}

/**
 * `GET api/sync`: a fixed number of set-based queries whatever the vault's size
 * (user, folders, ciphers with the caller's per-item state in one join).
 */
@Injectable()
export class SyncService {
  constructor(
    private readonly users: UserRepository,
    private readonly folders: FolderRepository,
    private readonly ciphers: CipherRepository,
  ) {}

  async sync(userId: string, excludeDomains: boolean): Promise<Record<string, unknown>> {
    const [user, folders, ciphers] = await Promise.all([
      this.users.findById(userId),
      this.folders.listForUser(userId),
      this.ciphers.listForUser(userId),
    ]);
    if (!user) throw notFound('User');
    return {
      profile: profileJson(user),
      folders: folders.map(folderJson),
      collections: [],
      ciphers: ciphers.map((c) => cipherJson(c)),
      domains: excludeDomains ? null : domainsJson(user),
      policies: [],
      sends: [],
      userDecryption: userDecryptionJson(user),
      object: 'sync',
    };
  }
}
