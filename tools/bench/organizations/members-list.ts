// Measured case: the members list against its floor (the same rows read by one query here, serialised the same way).
import { performance } from 'node:perf_hooks';
import { type Pool } from 'pg';
import { createOrganizationAs } from '@keyhaven/testing';
import { listJson } from '@keyhaven/contracts';
import { memberJson, toMembership, type MemberDetails } from '@keyhaven/domain-admin-console';
import { type Context, fmt, percentile } from './context';
import { seedMembers } from './seed';

type FloorRow = Parameters<typeof toMembership>[0] & {
  name: string | null;
  user_email: string | null;
  totp_secret: string | null;
  public_key: string | null;
  has_master_password: boolean;
  uses_key_connector: boolean | null;
  sso_bound: boolean;
  collections: { id: string; readOnly: boolean; hidePasswords: boolean; manage: boolean }[];
  groups: string[];
};

/** The members list's rows in one query, serialised as the server does. */
async function membersFloorOnce(pool: Pool, orgId: string): Promise<number> {
  const started = performance.now();
  const { rows } = await pool.query<FloorRow>(
    `WITH members AS (SELECT id FROM organization_user WHERE organization_id = $1),
     cu AS (
       SELECT cu.organization_user_id AS id, json_agg(json_build_object('id', cu.collection_id, 'readOnly', cu.read_only,
                'hidePasswords', cu.hide_passwords, 'manage', cu.manage)) AS collections
       FROM collection_user cu JOIN members ON members.id = cu.organization_user_id GROUP BY 1
     ), gu AS (
       SELECT gu.organization_user_id AS id, array_agg(gu.group_id) AS groups FROM group_user gu JOIN members ON members.id = gu.organization_user_id GROUP BY 1
     )
     SELECT m.*, u.name, u.email AS user_email, u.totp_secret, u.public_key,
       coalesce(u.master_password_hash, '') <> '' AS has_master_password, u.uses_key_connector,
       EXISTS (SELECT 1 FROM sso_user su WHERE su.organization_id = m.organization_id AND su.user_id = m.user_id) AS sso_bound,
       COALESCE(cu.collections, '[]') AS collections, COALESCE(gu.groups, '{}') AS groups
     FROM organization_user m LEFT JOIN app_user u ON u.id = m.user_id LEFT JOIN cu ON cu.id = m.id LEFT JOIN gu ON gu.id = m.id
     WHERE m.organization_id = $1 ORDER BY m.creation_date`,
    [orgId],
  );
  const body = JSON.stringify(
    listJson(
      rows.map((r) => {
        const details: MemberDetails = {
          ...toMembership(r),
          name: r.name,
          userEmail: r.user_email,
          twoFactorEnabled: r.totp_secret !== null,
          publicKey: r.public_key,
          hasMasterPassword: r.user_id !== null && r.has_master_password,
          usesKeyConnector: r.uses_key_connector === true,
          ssoBound: r.sso_bound,
        };
        return memberJson(details, r.collections, r.groups);
      }),
    ),
  );
  if (body.length === 0) throw new Error('empty');
  return performance.now() - started;
}

export async function benchMembersList(ctx: Context, size: number, rounds: number, warmup: number): Promise<void> {
  const orgId = await createOrganizationAs(ctx.server.http, ctx.owner, ctx.session.accessToken, `List ${size}`);
  await seedMembers(ctx.pool, orgId, size);
  const http: number[] = [];
  const statements: number[] = [];
  let bytes = 0;
  let count = 0;
  for (let i = 0; i < warmup + rounds; i++) {
    const before = ctx.counter.statements;
    const started = performance.now();
    const res = await ctx.server.http.get(`/api/organizations/${orgId}/users`, {
      token: ctx.session.accessToken,
      parse: false,
    });
    const elapsed = performance.now() - started;
    if (res.status !== 200) throw new Error(`members list: ${res.status} ${res.text.slice(0, 200)}`);
    statements.push(ctx.counter.statements - before);
    bytes = res.text.length;
    if (i === 0) count = (JSON.parse(res.text) as { data: unknown[] }).data.length;
    if (i >= warmup) http.push(elapsed);
  }
  const floor: number[] = [];
  for (let i = 0; i < warmup + rounds; i++) {
    const elapsed = await membersFloorOnce(ctx.pool, orgId);
    if (i >= warmup) floor.push(elapsed);
  }
  const p50 = percentile(http, 50);
  const f50 = percentile(floor, 50);
  process.stdout.write(
    `${String(count).padStart(6)} members ${(bytes / 1024 / 1024).toFixed(1).padStart(5)} MiB | GET /api/organizations/{id}/users ` +
      `p50 ${fmt(p50)} ms p95 ${fmt(percentile(http, 95))} ms | floor p50 ${fmt(f50)} ms p95 ${fmt(percentile(floor, 95))} ms | ` +
      `ratio p50 ${(p50 / f50).toFixed(2)}x | ${percentile(statements, 50)} statements/request\n`,
  );
}
