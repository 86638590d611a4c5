import type { Sql } from '@keyhaven/db';
import { PolicyType } from '@keyhaven/domain-admin-console';
import { ROLE_NAME_SQL, STATUS_NAME_SQL, toCells } from './rows';
import type { SheetPart } from './user-reports';

/**
 * Who can reach what: one row per member and collection grant — direct, or through each group that
 * grants it (`via` is `direct` or `group:<name>`), with the grant's readOnly/hidePasswords/manage —
 * and one row with empty collection columns for a member without any grant. `groups` lists every
 * group the member is in. Collection names are encrypted with the organization's key, so the sheet
 * names collections by id (the admin console maps ids to names on the client).
 * `twoFactorEnabled`: the account has an authenticator or another provider (email, WebAuthn, …) enabled;
 * invited members (no account yet) are false.
 */
export async function accessReview(db: Sql, organizationId: string | null): Promise<SheetPart> {
  const rows = await db.rows<Record<string, unknown>>(
    `WITH m AS (
       SELECT m.* FROM organization_user m WHERE $1::uuid IS NULL OR m.organization_id = $1::uuid
     ),
     member_groups AS (
       SELECT gu.organization_user_id AS member_id, string_agg(g.name, '; ' ORDER BY g.name, g.id) AS names
         FROM group_user gu
         JOIN org_group g ON g.id = gu.group_id
        WHERE gu.organization_user_id IN (SELECT id FROM m)
        GROUP BY gu.organization_user_id
     ),
     grants AS (
       SELECT cu.organization_user_id AS member_id, cu.collection_id, 'direct' AS via,
              cu.read_only, cu.hide_passwords, cu.manage
         FROM collection_user cu
        WHERE cu.organization_user_id IN (SELECT id FROM m)
       UNION ALL
       SELECT gu.organization_user_id, cg.collection_id, 'group:' || g.name,
              cg.read_only, cg.hide_passwords, cg.manage
         FROM group_user gu
         JOIN org_group g ON g.id = gu.group_id
         JOIN collection_group cg ON cg.group_id = gu.group_id
        WHERE gu.organization_user_id IN (SELECT id FROM m)
     )
     SELECT o.id AS "organizationId", o.name AS "organizationName", m.id AS "memberId", m.user_id AS "userId",
            coalesce(u.email, m.email) AS "email", u.name AS "name",
            ${ROLE_NAME_SQL} AS "role", ${STATUS_NAME_SQL} AS "status",
            (u.totp_secret IS NOT NULL OR EXISTS (
               SELECT 1 FROM two_factor_provider tf WHERE tf.user_id = u.id AND tf.enabled)) AS "twoFactorEnabled",
            coalesce(mg.names, '') AS "groups",
            gr.collection_id AS "collectionId", gr.via AS "via",
            gr.read_only AS "readOnly", gr.hide_passwords AS "hidePasswords", gr.manage AS "manage"
       FROM m
       JOIN organization o ON o.id = m.organization_id
       LEFT JOIN app_user u ON u.id = m.user_id
       LEFT JOIN member_groups mg ON mg.member_id = m.id
       LEFT JOIN grants gr ON gr.member_id = m.id
      ORDER BY o.name, o.id, coalesce(u.email, m.email), m.id, gr.collection_id, gr.via`,
    [organizationId],
  );
  return {
    columns: [
      'organizationId',
      'organizationName',
      'memberId',
      'userId',
      'email',
      'name',
      'role',
      'status',
      'twoFactorEnabled',
      'groups',
      'collectionId',
      'via',
      'readOnly',
      'hidePasswords',
      'manage',
    ],
    rows: rows.map(toCells),
  };
}

/**
 * Every policy an organization has saved, enabled or not. A policy binds the members who have
 * joined (Accepted or Confirmed) except Owners and Admins, who are exempt as in Bitwarden's clients:
 * `membersCovered` counts the bound ones while the policy is enabled (0 when it is off),
 * `membersExempt` the joined Owners and Admins.
 */
export async function policyCoverage(db: Sql, organizationId: string | null): Promise<SheetPart> {
  const rows = await db.rows<Record<string, unknown>>(
    `WITH joined AS (
       SELECT m.organization_id,
              count(*) FILTER (WHERE m.type NOT IN (0, 1))::int AS bound,
              count(*) FILTER (WHERE m.type IN (0, 1))::int AS exempt
         FROM organization_user m
        WHERE m.status IN (1, 2) AND ($1::uuid IS NULL OR m.organization_id = $1::uuid)
        GROUP BY m.organization_id
     )
     SELECT o.id AS "organizationId", o.name AS "organizationName", p.type AS "policyType",
            p.enabled AS "enabled",
            CASE WHEN p.enabled THEN coalesce(j.bound, 0) ELSE 0 END AS "membersCovered",
            coalesce(j.exempt, 0) AS "membersExempt",
            p.revision_date AS "revisionDate"
       FROM policy p
       JOIN organization o ON o.id = p.organization_id
       LEFT JOIN joined j ON j.organization_id = p.organization_id
      WHERE $1::uuid IS NULL OR p.organization_id = $1::uuid
      ORDER BY o.name, o.id, p.type`,
    [organizationId],
  );
  return {
    columns: [
      'organizationId',
      'organizationName',
      'policyType',
      'policy',
      'enabled',
      'membersCovered',
      'membersExempt',
      'revisionDate',
    ],
    rows: rows.map((r) => ({ ...toCells(r), policy: POLICY_NAMES[r['policyType'] as number] ?? 'Unknown' })),
  };
}

/** Bitwarden's policy names (PolicyType), for a sheet a reader understands without the numbers. */
const POLICY_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(PolicyType).map(([name, type]) => [type, name]),
);
