import type { Sql } from '@keyhaven/db';
import { memberOf, toCells } from './rows';
import type { ReportRow } from './report';

export interface SheetPart {
  readonly columns: readonly string[];
  readonly rows: readonly ReportRow[];
}

/**
 * Accounts with activity (a token issued or refreshed, a sync) within `days` before `now`, most
 * recent first. `lastActivityDate` moves at most every few minutes (see auth's ActivityService).
 */
export async function activeUsers(db: Sql, organizationId: string | null, now: Date, days: number): Promise<SheetPart> {
  const rows = await db.rows<Record<string, unknown>>(
    `SELECT u.id AS "userId", u.email, u.name, u.creation_date AS "creationDate",
            u.last_activity_date AS "lastActivityDate"
       FROM app_user u
      WHERE u.last_activity_date >= $2::timestamptz - make_interval(days => $3::int)
        AND ${memberOf('u')}
      ORDER BY u.last_activity_date DESC, u.email`,
    [organizationId, now, days],
  );
  return { columns: ['userId', 'email', 'name', 'creationDate', 'lastActivityDate'], rows: rows.map(toCells) };
}

/**
 * Accounts with no activity in the last `days` days. An account that was never active counts from
 * its creation, so one registered yesterday is not dormant yet; `lastActivityDate` is then empty.
 * `daysInactive` is whole days since the later of both, measured from the report's `now`.
 */
export async function dormantAccounts(
  db: Sql,
  organizationId: string | null,
  now: Date,
  days: number,
): Promise<SheetPart> {
  const rows = await db.rows<Record<string, unknown>>(
    `SELECT u.id AS "userId", u.email, u.name, u.creation_date AS "creationDate",
            u.last_activity_date AS "lastActivityDate",
            floor(extract(epoch FROM ($2::timestamptz - coalesce(u.last_activity_date, u.creation_date))) / 86400)::int
              AS "daysInactive"
       FROM app_user u
      WHERE coalesce(u.last_activity_date, u.creation_date) < $2::timestamptz - make_interval(days => $3::int)
        AND ${memberOf('u')}
      ORDER BY coalesce(u.last_activity_date, u.creation_date), u.email`,
    [organizationId, now, days],
  );
  return {
    columns: ['userId', 'email', 'name', 'creationDate', 'lastActivityDate', 'daysInactive'],
    rows: rows.map(toCells),
  };
}

/** Cipher types (Bitwarden's numbers) and their column names. */
const ITEM_TYPES = [
  [1, 'logins'],
  [2, 'secureNotes'],
  [3, 'cards'],
  [4, 'identities'],
  [5, 'sshKeys'],
] as const;

/**
 * Items per owner and type — counts only: the server cannot read an item, and the report never
 * says more than that one exists. Items in the trash count under `trashed`, not under their type.
 * The whole instance: every account (personal vault) and every organization. One organization:
 * that organization's items (its members' personal vaults are theirs, not the organization's).
 */
export async function vaultContents(db: Sql, organizationId: string | null): Promise<SheetPart> {
  const counts = ITEM_TYPES.map(
    ([type, name]) => `count(c.id) FILTER (WHERE c.type = ${type} AND c.deleted_date IS NULL)::int AS "${name}"`,
  ).join(',\n            ');
  const tally = `${counts},
            count(c.id) FILTER (WHERE c.type NOT IN (1, 2, 3, 4, 5) AND c.deleted_date IS NULL)::int AS "other",
            count(c.id) FILTER (WHERE c.deleted_date IS NOT NULL)::int AS "trashed",
            count(c.id)::int AS "total"`;
  // Two grouped joins in one statement, each on its own index (cipher.user_id, cipher.organization_id).
  const rows = await db.rows<Record<string, unknown>>(
    `SELECT 'user' AS "ownerType", u.id AS "ownerId", u.email AS "owner", ${tally}
       FROM app_user u
       LEFT JOIN cipher c ON c.user_id = u.id AND c.organization_id IS NULL
      WHERE $1::uuid IS NULL
      GROUP BY u.id, u.email
     UNION ALL
     SELECT 'organization', o.id, o.name, ${tally}
       FROM organization o
       LEFT JOIN cipher c ON c.organization_id = o.id
      WHERE $1::uuid IS NULL OR o.id = $1::uuid
      GROUP BY o.id, o.name
      ORDER BY 1 DESC, 3, 2`,
    [organizationId],
  );
  return {
    columns: ['ownerType', 'ownerId', 'owner', ...ITEM_TYPES.map(([, name]) => name), 'other', 'trashed', 'total'],
    rows: rows.map(toCells),
  };
}
