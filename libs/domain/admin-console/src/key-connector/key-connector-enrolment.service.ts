import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { PushPublisher } from '@keyhaven/bus';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database } from '@keyhaven/db';
import { PushType, badRequest, isWellFormedEncString, notFound } from '@keyhaven/contracts';
import { KeyConnectorAccounts, UserRepository } from '@keyhaven/domain-auth';
import { MemberStatus } from '../enums';
import { MemberRepository } from '../member.repository';
import type { KeyConnectorLocator } from '../sso';

const sym = z
  .string()
  .max(20_000)
  .refine((v) => isWellFormedEncString(v) && v.startsWith('2.'), { message: 'must be a symmetric-encrypted key' });
const publicKey = z.string().min(1).max(10_000);
const kdfV2 = z.object({
  kdfType: z.number().int().min(0).max(1),
  iterations: z.number().int().min(1),
  memory: z.number().int().nullish(),
  parallelism: z.number().int().nullish(),
});

/** V1 (`key`, `keys`, `kdf*`) and V2 (`keyConnectorKeyWrappedUserKey`, `accountKeys`); `orgIdentifier` in both. */
export const setKeyConnectorKeySchema = z.object({
  orgIdentifier: z.string().min(1).max(50),
  key: sym.nullish(),
  keys: z.object({ publicKey, encryptedPrivateKey: sym }).nullish(),
  kdf: z.number().int().min(0).max(1).nullish(),
  kdfIterations: z.number().int().min(1).nullish(),
  kdfMemory: z.number().int().nullish(),
  kdfParallelism: z.number().int().nullish(),
  keyConnectorKeyWrappedUserKey: sym.nullish(),
  accountKeys: z
    .object({
      publicKeyEncryptionKeyPair: z.object({ wrappedPrivateKey: sym, publicKey }),
    })
    .nullish(),
  kdfConfig: kdfV2.nullish(),
});

export const enrollKeyConnectorSchema = z.object({ keyConnectorKeyWrappedUserKey: sym });

const ADMIN_REFUSED = 'Cannot use Key Connector when admin or owner of an organization.';

/**
 * Key Connector from the organization's side: who may move to it (members of an organization whose
 * SSO uses Key Connector, never an Owner or Admin of any organization), the new member's first keys
 * accepting their invitation, and where the clients find the Key Connector when Keyhaven is its own.
 */
@Injectable()
export class KeyConnectorEnrolmentService implements KeyConnectorLocator {
  constructor(
    private readonly db: Database,
    private readonly accounts: KeyConnectorAccounts,
    private readonly users: UserRepository,
    private readonly members: MemberRepository,
    private readonly push: PushPublisher,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** The hosted Key Connector when enabled and the organization named none; else the configured URL. */
  urlFor(config: { readonly data: { readonly keyConnectorUrl?: string | null } }): string | null {
    const configured = config.data.keyConnectorUrl;
    if (configured) return configured;
    return this.config.KEY_CONNECTOR_ENABLED ? `${this.config.DOMAIN.replace(/\/$/, '')}/api/key-connector` : null;
  }

  /** `convert-to-key-connector` (no key: the master key is now the Key Connector's) and SDK `enroll`. */
  async convert(userId: string, wrappedUserKey: string | null): Promise<void> {
    const user = await this.users.require(userId);
    await this.assertMayUseKeyConnector(userId);
    const [inKcOrg] = await this.db.rows(
      `SELECT 1 FROM organization_user m JOIN sso_config s ON s.organization_id = m.organization_id
       WHERE m.user_id = $1 AND m.status >= 0 AND s.enabled AND s.member_decryption_type = 1 LIMIT 1`,
      [userId],
    );
    if (!inKcOrg) throw badRequest('No organization of yours uses Key Connector.');
    await this.db.transaction(() => this.accounts.convert(user, wrappedUserKey));
    this.changed(userId);
  }

  /** `set-key-connector-key`: a new account's first keys; accepts its invitation to the organization. */
  async setKeyConnectorKey(userId: string, body: z.infer<typeof setKeyConnectorKeySchema>): Promise<void> {
    const v2 = body.keyConnectorKeyWrappedUserKey && body.accountKeys;
    const key = v2 ? body.keyConnectorKeyWrappedUserKey : body.key;
    const pair = v2 ? body.accountKeys?.publicKeyEncryptionKeyPair : body.keys;
    if (!key || !pair) throw badRequest('The keys are required.');
    const encryptedPrivateKey = 'wrappedPrivateKey' in pair ? pair.wrappedPrivateKey : pair.encryptedPrivateKey;
    const kdf = body.kdfConfig
      ? {
          kdf: body.kdfConfig.kdfType,
          iterations: body.kdfConfig.iterations,
          memory: body.kdfConfig.memory ?? null,
          parallelism: body.kdfConfig.parallelism ?? null,
        }
      : body.kdf !== undefined && body.kdf !== null && body.kdfIterations
        ? {
            kdf: body.kdf,
            iterations: body.kdfIterations,
            memory: body.kdfMemory ?? null,
            parallelism: body.kdfParallelism ?? null,
          }
        : null;
    const user = await this.users.require(userId);
    await this.assertMayUseKeyConnector(userId);
    const membership = await this.membershipByIdentifier(userId, body.orgIdentifier);
    await this.db.transaction(async () => {
      await this.accounts.setKeys(user, { key, publicKey: pair.publicKey, encryptedPrivateKey, kdf });
      if (membership.status === MemberStatus.Invited)
        await this.members.update(membership.organizationId, membership.id, { status: MemberStatus.Accepted });
    });
    this.push.publish({
      type: PushType.SyncOrgKeys,
      userId,
      contextId: null,
      payload: { UserId: userId, Date: new Date() },
    });
  }

  /** What the web shows before a new member joins Key Connector. */
  async confirmationDetails(userId: string, identifier: string): Promise<{ organizationName: string }> {
    const membership = await this.membershipByIdentifier(userId, identifier);
    const [org] = await this.db.rows<{ name: string }>('SELECT name FROM organization WHERE id = $1', [
      membership.organizationId,
    ]);
    if (!org) throw notFound('Organization');
    return { organizationName: org.name };
  }

  private async membershipByIdentifier(
    userId: string,
    identifier: string,
  ): Promise<{ id: string; organizationId: string; status: number }> {
    const [row] = await this.db.rows<{ id: string; organization_id: string; status: number }>(
      `SELECT m.id, m.organization_id, m.status FROM organization_user m JOIN organization o ON o.id = m.organization_id
       WHERE m.user_id = $1 AND lower(o.identifier) = lower($2) AND m.status >= 0`,
      [userId, identifier],
    );
    if (!row) throw notFound('Organization');
    return { id: row.id, organizationId: row.organization_id, status: row.status };
  }

  private async assertMayUseKeyConnector(userId: string): Promise<void> {
    const [admin] = await this.db.rows(
      'SELECT 1 FROM organization_user WHERE user_id = $1 AND status >= 0 AND type IN (0, 1) LIMIT 1',
      [userId],
    );
    if (admin) throw badRequest(ADMIN_REFUSED);
  }

  /** The account changed (no master password any more): the user's clients sync, profile included. */
  private changed(userId: string): void {
    this.push.publish({
      type: PushType.SyncVault,
      userId,
      contextId: null,
      payload: { UserId: userId, Date: new Date() },
    });
  }
}
