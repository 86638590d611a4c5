// Measured case: the directory import, new then re-sync, against its floor (the same rows, one statement each).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { type Pool } from 'pg';
import { createOrganizationAs, type ServerProcess } from '@keyhaven/testing';
import { directoryImport } from '../directory';
import { type Context, fmt, orgToken, percentile } from './context';

/**
 * The import's rows written by one statement each in one transaction (rolled back), from the same
 * JSON text: ids made here, so no statement has to look anything up.
 */
async function importFloorOnce(pool: Pool, orgId: string, text: string): Promise<number> {
  const client = await pool.connect();
  try {
    const started = performance.now();
    const body = JSON.parse(text) as {
      members: { email: string; externalId: string }[];
      groups: { name: string; externalId: string; memberExternalIds: string[] }[];
    };
    const members = body.members.map((m) => ({
      id: randomUUID(),
      email: m.email.toLowerCase(),
      external_id: m.externalId,
    }));
    const memberByExternal = new Map(members.map((m) => [m.external_id, m.id]));
    const groups = body.groups.map((g) => ({ id: randomUUID(), name: g.name, external_id: g.externalId }));
    const pairs = body.groups.flatMap((g, i) =>
      g.memberExternalIds.map((e) => ({ g: groups[i]?.id, m: memberByExternal.get(e) })),
    );
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO organization_user (id, organization_id, email, status, type, external_id, creation_date, revision_date)
       SELECT a.id, $1, a.email, 0, 2, a.external_id, now(), now()
       FROM jsonb_to_recordset($2::jsonb) AS a(id uuid, email text, external_id text)`,
      [orgId, JSON.stringify(members)],
    );
    await client.query(
      `INSERT INTO org_group (id, organization_id, name, external_id, creation_date, revision_date)
       SELECT a.id, $1, a.name, a.external_id, now(), now()
       FROM jsonb_to_recordset($2::jsonb) AS a(id uuid, name text, external_id text)`,
      [orgId, JSON.stringify(groups)],
    );
    await client.query(
      `INSERT INTO group_user (group_id, organization_user_id) SELECT a.g, a.m FROM jsonb_to_recordset($1::jsonb) AS a(g uuid, m uuid)`,
      [JSON.stringify(pairs)],
    );
    const elapsed = performance.now() - started;
    await client.query('ROLLBACK');
    return elapsed;
  } finally {
    client.release();
  }
}

/** A POST without the test client's 30-second limit: the import before set-based writes took minutes. */
function postJsonSlow(
  server: ServerProcess,
  path: string,
  token: string,
  json: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, server.url),
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(json)),
          'device-type': '25',
        },
        ...(server.caPath ? { ca: readFileSync(server.caPath) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(3_600_000, () => req.destroy(new Error(`POST ${path} timed out`)));
    req.end(json);
  });
}

export async function benchImport(ctx: Context, size: number, groups: number, rounds: number): Promise<void> {
  const body = directoryImport(size, groups);
  const text = JSON.stringify(body);
  const fresh: number[] = [];
  const resync: number[] = [];
  const freshStatements: number[] = [];
  const resyncStatements: number[] = [];
  const floor: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const orgId = await createOrganizationAs(
      ctx.server.http,
      ctx.owner,
      ctx.session.accessToken,
      `Import ${size} #${round}`,
    );
    const token = await orgToken(ctx, orgId);
    floor.push(await importFloorOnce(ctx.pool, orgId, text));
    for (const [samples, counts] of [
      [fresh, freshStatements],
      [resync, resyncStatements],
    ] as const) {
      const before = ctx.counter.statements;
      const started = performance.now();
      const res = await postJsonSlow(ctx.server, '/api/public/organization/import', token, text);
      samples.push(performance.now() - started);
      counts.push(ctx.counter.statements - before);
      if (res.status !== 200) throw new Error(`import: ${res.status} ${res.text.slice(0, 200)}`);
      const invited = (JSON.parse(res.text) as { invited: number }).invited;
      if (samples === fresh && invited !== size) throw new Error(`import invited ${invited}`);
    }
    const [{ n } = { n: 0 }] = (
      await ctx.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM group_user gu JOIN org_group g ON g.id = gu.group_id WHERE g.organization_id = $1`,
        [orgId],
      )
    ).rows;
    if (n !== size) throw new Error(`import grouped ${n} of ${size} members`);
  }
  const f50 = percentile(floor, 50);
  for (const [label, samples, counts] of [
    ['new   ', fresh, freshStatements],
    ['resync', resync, resyncStatements],
  ] as const) {
    const p50 = percentile(samples, 50);
    process.stdout.write(
      `${String(size).padStart(6)} users ${label} | POST /api/public/organization/import p50 ${fmt(p50)} ms p95 ${fmt(percentile(samples, 95))} ms | ` +
        `floor p50 ${fmt(f50)} ms p95 ${fmt(percentile(floor, 95))} ms | ratio p50 ${(p50 / f50).toFixed(2)}x | ` +
        `${percentile(counts, 50)} statements/request (${rounds} rounds)\n`,
    );
  }
}
