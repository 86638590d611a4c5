import { Injectable } from '@nestjs/common';
import { notFound } from '@keyhaven/contracts';
import { ActivityService, UserRepository, domainsJson, profileJson, userDecryptionJson } from '@keyhaven/domain-auth';
import {
  CollectionRepository,
  OrganizationsService,
  PolicyRepository,
  collectionDetailsJson,
  policyJson,
  profileOrganizationJson,
} from '@keyhaven/domain-admin-console';
import { AttachmentStorage } from '../attachments/attachment-storage';
import { accessibleCipherJson } from '../ciphers/cipher';
import { CipherAccessRepository } from '../ciphers/cipher-access.repository';
import { FolderRepository } from '../folders/folder.repository';
import { folderJson } from '../folders/folder-json';

/**
 * `GET api/sync`: a fixed number of set-based queries whatever the vault's size — the user, their
 * organizations (with their SSO state), collections, policies, folders, and every reachable item with
 * its access in one join.
 */
@Injectable()
export class SyncService {
  constructor(
    private readonly users: UserRepository,
    private readonly folders: FolderRepository,
    private readonly ciphers: CipherAccessRepository,
    private readonly organizations: OrganizationsService,
    private readonly collections: CollectionRepository,
    private readonly policies: PolicyRepository,
    private readonly activity: ActivityService,
    private readonly storage: AttachmentStorage,
  ) {}

  async sync(userId: string, excludeDomains: boolean): Promise<Record<string, unknown>> {
    // A sync is activity too (clients keep a token for an hour and sync many times in between).
    await this.activity.touch(userId);
    const [user, folders, ciphers, orgs, collections, policies] = await Promise.all([
      this.users.findById(userId),
      this.folders.listForUser(userId),
      this.ciphers.listForUser(userId),
      this.organizations.forUser(userId),
      this.collections.listForUser(userId),
      this.policies.enabledForUser(userId),
    ]);
    if (!user) throw notFound('User');
    return {
      profile: profileJson(
        user,
        // A non-zero maxStorageGb is what the web vault and extensions check before offering org attachments.
        orgs.map(({ org, membership, sso }) => ({
          ...profileOrganizationJson(org, membership, sso),
          maxStorageGb: this.storage.organizationMaxStorageGb,
        })),
      ),
      folders: folders.map(folderJson),
      collections: collections.map(collectionDetailsJson),
      ciphers: ciphers.map(accessibleCipherJson),
      domains: excludeDomains ? null : domainsJson(user),
      policies: policies.map(policyJson),
      sends: [],
      userDecryption: userDecryptionJson(user),
      object: 'sync',
    };
  }
}
