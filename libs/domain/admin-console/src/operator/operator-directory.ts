import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

/** One account as the operator sees it: no keys, hashes or vault data, only what an offboarding needs. */
export interface OperatorUser {
  readonly id: string;
  readonly email: string;
  readonly name: string | null;
  readonly enabled: boolean;
  readonly emailVerified: boolean;
  readonly twoFactorEnabled: boolean;
  readonly creationDate: string;
  /** When the account last obtained a token (null: never, or not tracked by this version). */
  readonly lastActive: string | null;
  readonly organizations: readonly { id: string; name: string; type: number; status: number }[];
}

export interface OperatorOrganization {
  readonly id: string;
  readonly name: string;
  readonly billingEmail: string;
  readonly seats: number | null;
  readonly enabled: boolean;
  readonly creationDate: string;
  /** Members not revoked (invited ones included): what counts against the seats. */
  readonly members: number;
  readonly revoked: number;
}

export interface OperatorMember {
  readonly id: string;
  readonly userId: string | null;
  readonly email: string | null;
  readonly name: string | null;
  readonly type: number;
  readonly status: number;
}

export interface EventFilter {
  readonly type?: number | undefined;
  readonly userId?: string | undefined;
  readonly organizationId?: string | undefined;
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
}

export interface OperatorEventRow {
  readonly id: string;
  readonly type: number;
  readonly userId: string | null;
  readonly organizationId: string | null;
  readonly actingUserId: string | null;
  readonly ipAddress: string | null;
  readonly deviceType: number | null;
  readonly date: string;
}

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  enabled: boolean;
  email_verified: boolean;
  two_factor: boolean;
  creation_date: Date;
  last_active: Date | null;
  organizations: OperatorUser['organizations'] | string;
}

/** `%`, `_` and `\` in a search are literal characters, not patterns. */
const likePattern = (search: string): string => `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

/**
 * The operator's read model across auth's and the admin console's tables (reads across domains are
 * allowed; writes go through the owning services). Every list is one statement whatever its size.
 */
@Injectable()
export class OperatorDirectory {
  private lastActivityColumn: Promise<boolean> | undefined;

  constructor(private readonly db: Database) {}

  /** Accounts whose email or name contains `search` (all when empty), by email, at most `limit`. */
  async users(search: string | null, limit = 500): Promise<OperatorUser[]> {
    return this.select({ search: search?.trim() ? likePattern(search.trim()) : null }, limit);
  }

  async userById(id: string): Promise<OperatorUser | null> {
    return (await this.select({ id }, 1))[0] ?? null;
  }

  async userByEmail(email: string): Promise<OperatorUser | null> {
    return (await this.select({ email: email.trim().toLowerCase() }, 1))[0] ?? null;
  }

  private async select(
    where: { search?: string | null; id?: string; email?: string },
    limit: number,
  ): Promise<OperatorUser[]> {
    const lastActive = (await this.tracksActivity()) ? 'u.last_activity_date' : 'NULL::timestamptz';
    const rows = await this.db.rows<UserRow>(
      `SELECT u.id, u.email, u.name, u.enabled, u.email_verified, u.creation_date,
              (u.totp_secret IS NOT NULL OR EXISTS (SELECT 1 FROM two_factor_provider p
                                                       WHERE p.user_id = u.id AND p.enabled AND p.type IN (1, 7))) AS two_factor, ${lastActive} AS last_active,
              COALESCE((SELECT json_agg(json_build_object('id', o.id, 'name', o.name, 'type', m.type, 'status', m.status)
                                        ORDER BY o.name)
                        FROM organization_user m JOIN organization o ON o.id = m.organization_id
                        WHERE m.user_id = u.id), '[]'::json) AS organizations
       FROM app_user u
       WHERE ($1::text IS NULL OR u.email ILIKE $1 OR u.name ILIKE $1)
         AND ($3::uuid IS NULL OR u.id = $3) AND ($4::text IS NULL OR u.email = $4)
       ORDER BY u.email
       LIMIT $2`,
      [where.search ?? null, limit, where.id ?? null, where.email ?? null],
    );
    return rows.map((r) => ({
      id: r.id,
      email: r.email,
      name: r.name,
      enabled: r.enabled,
      emailVerified: r.email_verified,
      twoFactorEnabled: r.two_factor,
      creationDate: new Date(r.creation_date).toISOString(),
      lastActive: iso(r.last_active),
      organizations:
        typeof r.organizations === 'string'
          ? (JSON.parse(r.organizations) as OperatorUser['organizations'])
          : r.organizations,
    }));
  }

  async organizations(search: string | null = null): Promise<OperatorOrganization[]> {
    const rows = await this.db.rows<{
      id: string;
      name: string;
      billing_email: string;
      seats: number | null;
      enabled: boolean;
      creation_date: Date;
      members: number;
      revoked: number;
    }>(
      `SELECT o.id, o.name, o.billing_email, o.seats, o.enabled, o.creation_date,
              count(m.id) FILTER (WHERE m.status <> -1)::int AS members,
              count(m.id) FILTER (WHERE m.status = -1)::int AS revoked
       FROM organization o LEFT JOIN organization_user m ON m.organization_id = o.id
       WHERE $1::text IS NULL OR o.name ILIKE $1
       GROUP BY o.id ORDER BY o.name, o.id`,
      [search ? likePattern(search.trim()) : null],
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      billingEmail: r.billing_email,
      seats: r.seats,
      enabled: r.enabled,
      creationDate: new Date(r.creation_date).toISOString(),
      members: r.members,
      revoked: r.revoked,
    }));
  }

  async members(organizationId: string): Promise<OperatorMember[]> {
    const rows = await this.db.rows<{
      id: string;
      user_id: string | null;
      email: string | null;
      name: string | null;
      type: number;
      status: number;
    }>(
      `SELECT m.id, m.user_id, COALESCE(u.email, m.email) AS email, u.name, m.type, m.status
       FROM organization_user m LEFT JOIN app_user u ON u.id = m.user_id
       WHERE m.organization_id = $1 ORDER BY m.type, email`,
      [organizationId],
    );
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      email: r.email,
      name: r.name,
      type: r.type,
      status: r.status,
    }));
  }

  /** Invitations to the address not yet accepted, in every organization. */
  async pendingInvitations(email: string): Promise<{ id: string; organizationId: string }[]> {
    const rows = await this.db.rows<{ id: string; organization_id: string }>(
      'SELECT id, organization_id FROM organization_user WHERE email = $1 AND status = 0 AND user_id IS NULL',
      [email],
    );
    return rows.map((r) => ({ id: r.id, organizationId: r.organization_id }));
  }

  /**
   * The newest audit-log events matching every given filter (the events feature's `event` table,
   * read here for the operator's view across organizations).
   */
  async events(filter: EventFilter, limit = 200): Promise<OperatorEventRow[]> {
    const rows = await this.db.rows<{
      id: string;
      type: number;
      user_id: string | null;
      organization_id: string | null;
      acting_user_id: string | null;
      ip_address: string | null;
      device_type: number | null;
      date: Date;
    }>(
      `SELECT id, type, user_id, organization_id, acting_user_id, ip_address, device_type, date FROM event
       WHERE ($1::int IS NULL OR type = $1) AND ($2::uuid IS NULL OR user_id = $2 OR acting_user_id = $2)
         AND ($3::uuid IS NULL OR organization_id = $3) AND ($4::timestamptz IS NULL OR date >= $4)
         AND ($5::timestamptz IS NULL OR date < $5)
       ORDER BY date DESC, id DESC LIMIT $6`,
      [
        filter.type ?? null,
        filter.userId ?? null,
        filter.organizationId ?? null,
        filter.from ?? null,
        filter.to ?? null,
        limit,
      ],
    );
    return rows.map((r) => ({
      id: r.id,
      type: r.type,
      userId: r.user_id,
      organizationId: r.organization_id,
      actingUserId: r.acting_user_id,
      ipAddress: r.ip_address,
      deviceType: r.device_type,
      date: new Date(r.date).toISOString(),
    }));
  }

  /** `last_activity_date` arrives with the reports feature's migration; until then last activity is unknown. */
  private tracksActivity(): Promise<boolean> {
    this.lastActivityColumn ??= this.db
      .rows<{ present: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM information_schema.columns
                        WHERE table_name = 'app_user' AND column_name = 'last_activity_date') AS present`,
      )
      .then((rows) => rows[0]?.present === true);
    return this.lastActivityColumn;
  }
}
