import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { unauthorized, type KdfType } from '@keyhaven/contracts';
import type { User } from './user';

interface UserRow {
  id: string;
  email: string;
  email_verified: boolean;
  name: string | null;
  master_password_hash: string;
  master_password_hint: string | null;
  key: string;
  public_key: string | null;
  private_key: string | null;
  user_key_id: string | null;
  kdf: number;
  kdf_iterations: number;
  kdf_memory: number | null;
  kdf_parallelism: number | null;
  security_stamp: string;
  api_key: string;
  culture: string;
  avatar_color: string | null;
  premium: boolean;
  force_password_reset: boolean;
  totp_secret: string | null;
  recovery_code_hash: string | null;
  two_factor_enabled: boolean;
  verify_devices: boolean;
  uses_key_connector: boolean;
  equivalent_domains: string[][] | null;
  excluded_global_domains: number[] | null;
  creation_date: Date;
  revision_date: Date;
  account_revision_date: Date;
  enabled: boolean | undefined;
}

/**
 * Every column, and whether any two-step provider is on (the authenticator secret lives here, email
 * and WebAuthn in `two_factor_provider`), so callers need not know where each provider is stored.
 */
const USER_COLUMNS = `app_user.*, (app_user.totp_secret IS NOT NULL OR EXISTS (
  SELECT 1 FROM two_factor_provider p WHERE p.user_id = app_user.id AND p.enabled AND p.type IN (1, 7)
)) AS two_factor_enabled`;

function toUser(r: UserRow): User {
  return {
    id: r.id,
    email: r.email,
    emailVerified: r.email_verified,
    name: r.name,
    masterPasswordHash: r.master_password_hash,
    masterPasswordHint: r.master_password_hint,
    key: r.key,
    publicKey: r.public_key,
    privateKey: r.private_key,
    userKeyId: r.user_key_id,
    kdf: r.kdf as KdfType,
    kdfIterations: r.kdf_iterations,
    kdfMemory: r.kdf_memory,
    kdfParallelism: r.kdf_parallelism,
    securityStamp: r.security_stamp,
    apiKey: r.api_key,
    culture: r.culture,
    avatarColor: r.avatar_color,
    premium: r.premium,
    forcePasswordReset: r.force_password_reset,
    totpSecret: r.totp_secret,
    recoveryCodeHash: r.recovery_code_hash,
    twoFactorEnabled: r.two_factor_enabled,
    verifyDevices: r.verify_devices,
    usesKeyConnector: r.uses_key_connector,
    equivalentDomains: r.equivalent_domains,
    excludedGlobalDomains: r.excluded_global_domains,
    creationDate: new Date(r.creation_date),
    revisionDate: new Date(r.revision_date),
    accountRevisionDate: new Date(r.account_revision_date),
    enabled: r.enabled !== false,
  };
}

export interface NewUser {
  id: string;
  email: string;
  name: string | null;
  masterPasswordHash: string;
  masterPasswordHint: string | null;
  key: string;
  publicKey: string | null;
  privateKey: string | null;
  kdf: KdfType;
  kdfIterations: number;
  kdfMemory: number | null;
  kdfParallelism: number | null;
  securityStamp: string;
  apiKey: string;
  emailVerified: boolean;
}

/** Column names a caller may change through `update`. */
export type UserPatch = Partial<{
  name: string | null;
  master_password_hash: string;
  master_password_hint: string | null;
  key: string;
  public_key: string;
  private_key: string;
  user_key_id: string;
  kdf: number;
  kdf_iterations: number;
  kdf_memory: number | null;
  kdf_parallelism: number | null;
  security_stamp: string;
  api_key: string;
  culture: string;
  avatar_color: string | null;
  totp_secret: string | null;
  recovery_code_hash: string | null;
  equivalent_domains: string;
  excluded_global_domains: string;
  force_password_reset: boolean;
  uses_key_connector: boolean;
}>;

@Injectable()
export class UserRepository {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<User | null> {
    const rows = await this.db.rows<UserRow>(`SELECT ${USER_COLUMNS} FROM app_user WHERE id = $1`, [id]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  /** The caller's own account; gone means the token outlived it. */
  async require(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw unauthorized();
    return user;
  }

  /** Several accounts in one statement (unknown ids are left out). */
  async findManyByIds(ids: readonly string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    return (await this.db.rows<UserRow>(`SELECT ${USER_COLUMNS} FROM app_user WHERE id = ANY($1::uuid[])`, [ids])).map(
      toUser,
    );
  }

  async findByEmail(email: string): Promise<User | null> {
    const rows = await this.db.rows<UserRow>(`SELECT ${USER_COLUMNS} FROM app_user WHERE email = $1`, [email]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async securityStampOf(id: string): Promise<string | null> {
    // A disabled account has no valid stamp: its access tokens stop working and the hub closes its connections.
    const rows = await this.db.rows<{ security_stamp: string }>(
      'SELECT security_stamp FROM app_user WHERE id = $1 AND enabled',
      [id],
    );
    return rows[0]?.security_stamp ?? null;
  }

  /** The stamps of many users in one statement (the hub's periodic check); disabled and deleted users are absent. */
  async securityStampsOf(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.rows<{ id: string; security_stamp: string }>(
      'SELECT id, security_stamp FROM app_user WHERE id = ANY($1::uuid[]) AND enabled',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.security_stamp]));
  }

  /** False when the email is taken (unique index), so concurrent registrations cannot both win. */
  async insert(user: NewUser): Promise<boolean> {
    const now = new Date();
    const inserted = await this.db.execute(
      `INSERT INTO app_user (id, email, email_verified, name, master_password_hash, master_password_hint, key, public_key,
         private_key, kdf, kdf_iterations, kdf_memory, kdf_parallelism, security_stamp, api_key, creation_date,
         revision_date, account_revision_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $16)
       ON CONFLICT (email) DO NOTHING`,
      [
        user.id,
        user.email,
        user.emailVerified,
        user.name,
        user.masterPasswordHash,
        user.masterPasswordHint,
        user.key,
        user.publicKey,
        user.privateKey,
        user.kdf,
        user.kdfIterations,
        user.kdfMemory,
        user.kdfParallelism,
        user.securityStamp,
        user.apiKey,
        now,
      ],
    );
    return inserted === 1;
  }

  /** Changes the given columns and bumps the revision dates the clients poll. */
  async update(id: string, patch: UserPatch): Promise<void> {
    const entries = Object.entries(patch);
    const sets = entries.map(([column], i) => `${column} = $${i + 2}`);
    const now = new Date();
    sets.push(`revision_date = $${entries.length + 2}`, `account_revision_date = $${entries.length + 2}`);
    await this.db.execute(`UPDATE app_user SET ${sets.join(', ')} WHERE id = $1`, [
      id,
      ...entries.map(([, v]) => v),
      now,
    ]);
  }

  /**
   * The account's first key pair; false when it already has one (checked in the statement, so two
   * concurrent first posts cannot both win). Bumps the revision dates as `update` does.
   */
  async setFirstKeyPair(id: string, pair: { publicKey: string; encryptedPrivateKey: string }): Promise<boolean> {
    const now = new Date();
    const changed = await this.db.execute(
      `UPDATE app_user SET public_key = $2, private_key = $3, revision_date = $4, account_revision_date = $4
       WHERE id = $1 AND coalesce(public_key, '') = '' AND coalesce(private_key, '') = ''`,
      [id, pair.publicKey, pair.encryptedPrivateKey, now],
    );
    return changed === 1;
  }

  /**
   * Swaps a verified password hash for one in this server's scheme (an imported account's first login): the
   * same secret, so no revision date moves; a concurrent password change wins.
   */
  async rehashPassword(id: string, previous: string, next: string): Promise<void> {
    await this.db.execute('UPDATE app_user SET master_password_hash = $3 WHERE id = $1 AND master_password_hash = $2', [
      id,
      previous,
      next,
    ]);
  }

  /** Vault changes move the account revision date, which `bw sync` compares before a full sync. */
  async touchAccountRevision(id: string): Promise<void> {
    await this.touchAccountRevisions([id]);
  }

  /** The same for any number of accounts, in one statement. */
  async touchAccountRevisions(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.execute('UPDATE app_user SET account_revision_date = $2 WHERE id = ANY($1::uuid[])', [
      ids,
      new Date(),
    ]);
  }

  /**
   * Every account with a membership row in the organization, in one statement. It reads
   * `organization_user` (admin-console's table) to select the rows; the write stays on `app_user`.
   */
  async touchOrganizationMembersRevision(organizationId: string): Promise<void> {
    await this.db.execute(
      'UPDATE app_user SET account_revision_date = $2 WHERE id IN (SELECT user_id FROM organization_user WHERE organization_id = $1 AND user_id IS NOT NULL)',
      [organizationId, new Date()],
    );
  }

  async recordFailedLogin(id: string): Promise<void> {
    await this.db.execute(
      'UPDATE app_user SET failed_login_count = failed_login_count + 1, last_failed_login_at = $2 WHERE id = $1',
      [id, new Date()],
    );
  }

  async clearFailedLogins(id: string): Promise<void> {
    await this.db.execute('UPDATE app_user SET failed_login_count = 0 WHERE id = $1 AND failed_login_count <> 0', [id]);
  }
}
