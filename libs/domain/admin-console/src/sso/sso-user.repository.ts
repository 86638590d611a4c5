import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

/** The SSO side of organizations: identifiers, IdP links (`sso_user`), and members provisioned by SSO. */
@Injectable()
export class SsoUserRepository {
  constructor(private readonly db: Database) {}

  async organizationByIdentifier(
    identifier: string,
  ): Promise<{ id: string; name: string; enabled: boolean; identifier: string } | null> {
    const rows = await this.db.rows<{ id: string; name: string; enabled: boolean; identifier: string }>(
      'SELECT id, name, enabled, identifier FROM organization WHERE lower(identifier) = lower($1)',
      [identifier],
    );
    return rows[0] ?? null;
  }

  async identifierOf(organizationId: string): Promise<string | null> {
    const rows = await this.db.rows<{ identifier: string | null }>(
      'SELECT identifier FROM organization WHERE id = $1',
      [organizationId],
    );
    return rows[0]?.identifier ?? null;
  }

  /** Another organization already uses the identifier (compared without case). */
  async identifierTaken(organizationId: string, identifier: string | null): Promise<boolean> {
    if (!identifier) return false;
    const taken = await this.db.rows<{ id: string }>(
      'SELECT id FROM organization WHERE lower(identifier) = lower($1) AND id <> $2',
      [identifier, organizationId],
    );
    return taken.length > 0;
  }

  /** False when another organization already uses the identifier (compared without case). */
  async setIdentifier(organizationId: string, identifier: string | null): Promise<boolean> {
    if (await this.identifierTaken(organizationId, identifier)) return false;
    await this.db.execute('UPDATE organization SET identifier = $2, revision_date = now() WHERE id = $1', [
      organizationId,
      identifier,
    ]);
    return true;
  }

  async linkedUser(organizationId: string, externalId: string): Promise<string | null> {
    const rows = await this.db.rows<{ user_id: string }>(
      'SELECT user_id FROM sso_user WHERE organization_id = $1 AND external_id = $2',
      [organizationId, externalId],
    );
    return rows[0]?.user_id ?? null;
  }

  /** Links the user to the subject; true when an older link of this user was replaced. */
  async link(organizationId: string, userId: string, externalId: string): Promise<boolean> {
    const replaced = await this.db.execute('DELETE FROM sso_user WHERE organization_id = $1 AND user_id = $2', [
      organizationId,
      userId,
    ]);
    await this.db.execute(
      `INSERT INTO sso_user (id, user_id, organization_id, external_id, creation_date) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (organization_id, external_id) DO UPDATE SET user_id = EXCLUDED.user_id`,
      [randomUUID(), userId, organizationId, externalId],
    );
    return replaced > 0;
  }

  /** Removes the user's link to the organization's IdP; false when there was none. */
  async unlink(organizationId: string, userId: string): Promise<boolean> {
    const removed = await this.db.execute('DELETE FROM sso_user WHERE organization_id = $1 AND user_id = $2', [
      organizationId,
      userId,
    ]);
    return removed > 0;
  }

  /** Some member's account unlocks with the Key Connector (it has no master password to fall back on). */
  async anyMemberUsesKeyConnector(organizationId: string): Promise<boolean> {
    const rows = await this.db.rows<{ n: number }>(
      `SELECT 1 AS n FROM organization_user m JOIN app_user u ON u.id = m.user_id
       WHERE m.organization_id = $1 AND u.uses_key_connector LIMIT 1`,
      [organizationId],
    );
    return rows.length > 0;
  }

  async isLinked(organizationId: string, userId: string): Promise<boolean> {
    const rows = await this.db.rows<{ n: number }>(
      'SELECT 1 AS n FROM sso_user WHERE organization_id = $1 AND user_id = $2',
      [organizationId, userId],
    );
    return rows.length > 0;
  }

  /**
   * A membership waiting for this person without an account yet: invited by email, or provisioned
   * by SCIM (matched by its externalId = the IdP subject, or by email). Null when there is none.
   */
  async pendingMembership(organizationId: string, email: string, externalId: string): Promise<string | null> {
    const rows = await this.db.rows<{ id: string }>(
      `SELECT id FROM organization_user WHERE organization_id = $1 AND user_id IS NULL
         AND (lower(email) = lower($2) OR external_id = $3)
       ORDER BY (external_id = $3) DESC NULLS LAST LIMIT 1`,
      [organizationId, email, externalId],
    );
    return rows[0]?.id ?? null;
  }

  /** Gives a pending membership its account (status untouched: it stays Invited until the key is set). */
  async attachUser(organizationId: string, memberId: string, userId: string, email: string): Promise<void> {
    await this.db.execute(
      `UPDATE organization_user SET user_id = $3, email = $4, revision_date = now()
       WHERE organization_id = $1 AND id = $2 AND user_id IS NULL`,
      [organizationId, memberId, userId, email],
    );
  }

  /** Invited → Accepted by the first key-setup call (set-password) of an SSO-provisioned member. */
  async acceptInvited(organizationId: string, userId: string): Promise<string | null> {
    const rows = await this.db.rows<{ id: string }>(
      `UPDATE organization_user SET status = 1, revision_date = now()
       WHERE organization_id = $1 AND user_id = $2 AND status = 0 RETURNING id`,
      [organizationId, userId],
    );
    return rows[0]?.id ?? null;
  }

  /** Group ids of the organization whose name or external id is one of `values` (case-insensitive names). */
  async groupsMatching(organizationId: string, values: readonly string[]): Promise<string[]> {
    if (values.length === 0) return [];
    const rows = await this.db.rows<{ id: string }>(
      `SELECT id FROM org_group WHERE organization_id = $1
         AND (lower(name) = ANY($2::text[]) OR external_id = ANY($3::text[]))`,
      [organizationId, values.map((v) => v.toLowerCase()), values],
    );
    return rows.map((r) => r.id);
  }
}
