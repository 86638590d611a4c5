// Measured case: statements per request on every list and bulk path, at two organization sizes.
import { createOrganizationAs } from '@keyhaven/testing';
import { type Context, orgToken } from './context';
import { seedAccepted, seedMembers } from './seed';

/**
 * Statements per request on each list and bulk path, for two organization sizes: a set-based path
 * shows the same figure for both.
 */
export async function benchStatements(ctx: Context, sizes: readonly number[]): Promise<void> {
  const rows: { path: string; counts: number[] }[] = [];
  const record = (path: string, column: number, count: number): void => {
    let row = rows.find((r) => r.path === path);
    if (!row) rows.push((row = { path, counts: [] }));
    row.counts[column] = count;
  };
  for (const [column, size] of sizes.entries()) {
    const orgId = await createOrganizationAs(ctx.server.http, ctx.owner, ctx.session.accessToken, `Paths ${size}`);
    await seedMembers(ctx.pool, orgId, size);
    const accepted = await seedAccepted(ctx.pool, orgId, size);
    const orgToken_ = await orgToken(ctx, orgId);
    const user = ctx.session.accessToken;
    const key = `4.${Buffer.alloc(256, 7).toString('base64')}`;
    const paths: [string, string, string, string, unknown?][] = [
      ['GET /api/organizations/{id}/users', 'GET', `/api/organizations/${orgId}/users`, user],
      ['GET /api/organizations/{id}/groups/details', 'GET', `/api/organizations/${orgId}/groups/details`, user],
      [
        'GET /api/organizations/{id}/collections/details',
        'GET',
        `/api/organizations/${orgId}/collections/details`,
        user,
      ],
      ['GET /api/public/members', 'GET', '/api/public/members', orgToken_],
      ['GET /api/public/groups', 'GET', '/api/public/groups', orgToken_],
      ['GET /api/public/collections', 'GET', '/api/public/collections', orgToken_],
      [
        'PUT /api/organizations/{id}/policies/3 (single org on)',
        'PUT',
        `/api/organizations/${orgId}/policies/3`,
        user,
        { enabled: true },
      ],
      [
        `POST /api/organizations/{id}/users/confirm (N keys)`,
        'POST',
        `/api/organizations/${orgId}/users/confirm`,
        user,
        { keys: accepted.slice(0, 500).map((id) => ({ id, key })) },
      ],
    ];
    for (const [label, method, path, token, json] of paths) {
      const before = ctx.counter.statements;
      const res = await ctx.server.http.request(method, path, { token, ...(json ? { json } : {}), parse: false });
      if (res.status !== 200) throw new Error(`${label}: ${res.status} ${res.text.slice(0, 200)}`);
      record(label, column, ctx.counter.statements - before);
    }
  }
  const width = Math.max(...rows.map((r) => r.path.length));
  process.stdout.write(
    `statements per request (token check and org permission included), N = ${sizes.join(' | N = ')} (confirm: up to 500 keys)\n`,
  );
  for (const row of rows)
    process.stdout.write(`  ${row.path.padEnd(width)} ${row.counts.map((c) => String(c).padStart(7)).join(' ')}\n`);
}
