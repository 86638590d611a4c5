import type { Sql } from '@keyhaven/db';
import { EventType } from '@keyhaven/contracts';
import { toCells } from './rows';
import type { SheetPart } from './user-reports';

/**
 * What counts as an administrative action: Bitwarden's collection (1300s), group (1400s),
 * organization-user (1500s), organization (1600s) and policy (1700s) events.
 */
export const ADMIN_EVENT_TYPES = { from: 1300, to: 1799 } as const;

/**
 * Administrative actions stored in the event log during [from, to), oldest first, with who acted
 * (id and current email; a deleted account keeps its id), from which device type and address, and
 * what was acted on. One organization, or every organization of the instance.
 */
export async function adminActions(db: Sql, organizationId: string | null, from: Date, to: Date): Promise<SheetPart> {
  const rows = await db.rows<Record<string, unknown>>(
    `SELECT e.date AS "date", e.type AS "eventType", e.organization_id AS "organizationId",
            o.name AS "organizationName", e.acting_user_id AS "actingUserId", u.email AS "actingUserEmail",
            e.organization_user_id AS "organizationUserId", e.collection_id AS "collectionId",
            e.group_id AS "groupId", e.policy_id AS "policyId", e.device_type AS "deviceType",
            e.ip_address AS "ipAddress", e.id AS "eventId"
       FROM event e
       LEFT JOIN organization o ON o.id = e.organization_id
       LEFT JOIN app_user u ON u.id = e.acting_user_id
      WHERE e.organization_id IS NOT NULL
        AND ($1::uuid IS NULL OR e.organization_id = $1::uuid)
        AND e.type BETWEEN $4 AND $5
        AND e.date >= $2 AND e.date < $3
      ORDER BY e.date, e.id`,
    [organizationId, from, to, ADMIN_EVENT_TYPES.from, ADMIN_EVENT_TYPES.to],
  );
  return {
    columns: [
      'date',
      'eventType',
      'event',
      'organizationId',
      'organizationName',
      'actingUserId',
      'actingUserEmail',
      'organizationUserId',
      'collectionId',
      'groupId',
      'policyId',
      'deviceType',
      'ipAddress',
      'eventId',
    ],
    rows: rows.map((r) => {
      const type = r['eventType'] as number;
      return { ...toCells(r), event: (EventType as unknown as Record<number, string | undefined>)[type] ?? null };
    }),
  };
}
