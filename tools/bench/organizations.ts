/**
 * Organization benchmarks, each next to its floor measured in the same run on the same database:
 *
 * - members list: p50/p95 of `GET /api/organizations/{id}/users` for an organization of N confirmed
 *   members, each with two collections and one group; floor: the same rows (members, accounts,
 *   collection and group assignments) read by one query in this process and serialised the same way.
 * - directory import: `POST /api/public/organization/import` of N new users in G groups with the
 *   organization's API key, into a fresh organization each round, then the same body again (a
 *   re-sync where everyone matches); floor: parsing the same JSON and writing the same member, group
 *   and group-member rows with one statement each in one transaction in this process (rolled back).
 *   The server also signs and "sends" (logs) one invitation per new member after commit; the floor
 *   does not.
 *
 * The server reaches PostgreSQL through a small proxy in this process that counts the statements it
 * sends (simple queries and extended-protocol executes, BEGIN/COMMIT included): the figure printed
 * is statements per request. A first table gives that figure for every list and bulk path of the
 * admin console and the public API at two organization sizes.
 *
 *   npm run bench:orgs                                   # 5,000-member list, 10,000-user import
 *   npm run bench:orgs -- --members 1000 --import 2000 --import-rounds 1
 *   npm run bench:orgs -- --members 0 --import 0        # only the statements-per-path table
 *   npm run bench:orgs -- --paths 0                      # without that table
 *
 * Needs the PostgreSQL on 127.0.0.1 (TEST_DATABASE_URL); the server runs as the all-in-one on it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import {
  createOrganizationAs,
  createScratchDatabase,
  passwordLogin,
  registerAccount,
  serviceUrls,
  startServer,
  type ServerProcess,
  type Session,
} from '@keyhaven/testing';
import { listJson } from '@keyhaven/contracts';
import { memberJson, toMembership, type MemberDetails } from '@keyhaven/domain-admin-console';
import type { Account } from '@keyhaven/vault-crypto';
import { directoryImport, organizationApiToken } from './directory';

const PASSWORD = 'benchmark password';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : NaN;
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const fmt = (n: number): string => n.toFixed(1).padStart(8);

/** Forwards the server's PostgreSQL connections and counts the statements on the wire. */
class StatementCounter {
  statements = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async listen(): Promise<number> {
    this.server = createServer((client) => {
      const upstream = connect({ host: this.host, port: this.port });
      this.sockets.add(client).add(upstream);
      let pending = Buffer.alloc(0);
      let startup = true;
      client.on('data', (chunk: Buffer) => {
        upstream.write(chunk);
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          if (startup) {
            // Startup and SSL requests: a length, no type byte.
            if (pending.length < 8) break;
            const length = pending.readInt32BE(0);
            if (pending.length < length) break;
            const code = pending.readInt32BE(4);
            pending = pending.subarray(length);
            if (code !== 80877103) startup = false;
            continue;
          }
          if (pending.length < 5) break;
          const length = pending.readInt32BE(1);
          if (pending.length < length + 1) break;
          const type = String.fromCharCode(pending[0] ?? 0);
          if (type === 'Q' || type === 'E') this.statements++;
          pending = pending.subarray(length + 1);
        }
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      const close = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy did not bind');
    return address.port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
}

interface Context {
  server: ServerProcess;
  pool: Pool;
  counter: StatementCounter;
  owner: Account;
  session: Session;
}

/** N confirmed members with accounts, 20 collections, 10 groups: two collections and one group each. */
async function seedMembers(pool: Pool, orgId: string, size: number): Promise<void> {
  const tag = randomUUID().slice(0, 8);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO app_user (id, email, name, master_password_hash, key, public_key, kdf, kdf_iterations, security_stamp, api_key,
         totp_secret, creation_date, revision_date, account_revision_date)
       SELECT gen_random_uuid(), 'member' || i || '-' || $2::text || '@bench.example.com', 'Member ' || i, 'hash', '2.aaaa|bbbb|cccc',
         'publickey' || i, 0, 600000, md5(i::text), md5('k' || i), CASE WHEN i % 3 = 0 THEN 'SECRET' END, now(), now(), now()
       FROM generate_series(1, $1::int) i`,
      [size, tag],
    );
    await client.query(
      `INSERT INTO organization_user (id, organization_id, user_id, key, status, type, external_id, creation_date, revision_date)
       SELECT gen_random_uuid(), $1, u.id, '4.wrappedorgkey', 2, CASE WHEN row_number() OVER () % 50 = 0 THEN 1 ELSE 2 END,
         'ext-' || u.email, now(), now()
       FROM app_user u WHERE u.email LIKE 'member%-' || $2::text || '@bench.example.com'`,
      [orgId, tag],
    );
    await client.query(
      `INSERT INTO collection (id, organization_id, name, creation_date, revision_date)
       SELECT gen_random_uuid(), $1, '2.collection' || i || '|iv|mac', now(), now() FROM generate_series(1, 20) i`,
      [orgId],
    );
    await client.query(
      `INSERT INTO org_group (id, organization_id, name, creation_date, revision_date)
       SELECT gen_random_uuid(), $1, 'Group ' || i, now(), now() FROM generate_series(1, 10) i`,
      [orgId],
    );
    await client.query(
      `WITH m AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM organization_user WHERE organization_id = $1 AND type <> 0),
            c AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM collection WHERE organization_id = $1)
       INSERT INTO collection_user (collection_id, organization_user_id, read_only, hide_passwords, manage)
       SELECT c.id, m.id, m.n % 4 = 0, m.n % 7 = 0, m.n % 11 = 0 FROM m JOIN c ON c.n IN (m.n % 20, (m.n + 7) % 20)
       ON CONFLICT DO NOTHING`,
      [orgId],
    );
    await client.query(
      `WITH m AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM organization_user WHERE organization_id = $1 AND type <> 0),
            g AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM org_group WHERE organization_id = $1)
       INSERT INTO group_user (group_id, organization_user_id) SELECT g.id, m.id FROM m JOIN g ON g.n = m.n % 10`,
      [orgId],
    );
    await client.query(
      `WITH g AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM org_group WHERE organization_id = $1),
            c AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM collection WHERE organization_id = $1)
       INSERT INTO collection_group (collection_id, group_id, read_only, hide_passwords, manage)
       SELECT c.id, g.id, false, false, g.n % 2 = 0 FROM g JOIN c ON c.n IN (g.n % 20, (g.n * 3) % 20)
       ON CONFLICT DO NOTHING`,
      [orgId],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE');
  } finally {
    client.release();
  }
}

type FloorRow = Parameters<typeof toMembership>[0] & {
  name: string | null;
  user_email: string | null;
  totp_secret: string | null;
  public_key: string | null;
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
        };
        return memberJson(details, r.collections, r.groups);
      }),
    ),
  );
  if (body.length === 0) throw new Error('empty');
  return performance.now() - started;
}

async function benchMembersList(ctx: Context, size: number, rounds: number, warmup: number): Promise<void> {
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

function orgToken(ctx: Context, orgId: string): Promise<string> {
  return organizationApiToken(ctx.server.http, ctx.owner, ctx.session.accessToken, orgId);
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

async function benchImport(ctx: Context, size: number, groups: number, rounds: number): Promise<void> {
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

/** N members who accepted an invitation and await confirmation (with accounts and public keys). */
async function seedAccepted(pool: Pool, orgId: string, size: number): Promise<string[]> {
  const tag = randomUUID().slice(0, 8);
  await pool.query(
    `INSERT INTO app_user (id, email, name, master_password_hash, key, public_key, kdf, kdf_iterations, security_stamp, api_key,
       creation_date, revision_date, account_revision_date)
     SELECT gen_random_uuid(), 'accepted' || i || '-' || $1::text || '@bench.example.com', 'Accepted ' || i, 'hash',
       '2.aaaa|bbbb|cccc', 'publickey', 0, 600000, md5(i::text), md5('k' || i), now(), now(), now()
     FROM generate_series(1, $2::int) i`,
    [tag, size],
  );
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO organization_user (id, organization_id, user_id, status, type, creation_date, revision_date)
     SELECT gen_random_uuid(), $1, u.id, 1, 2, now(), now() FROM app_user u
     WHERE u.email LIKE 'accepted%-' || $2::text || '@bench.example.com'
     RETURNING id`,
    [orgId, tag],
  );
  return rows.map((r) => r.id);
}

/**
 * Statements per request on each list and bulk path, for two organization sizes: a set-based path
 * shows the same figure for both.
 */
async function benchStatements(ctx: Context, sizes: readonly number[]): Promise<void> {
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

async function main(): Promise<void> {
  const members = option('members', 5000);
  const importSize = option('import', 10000);
  const importGroups = option('import-groups', 20);
  const rounds = option('rounds', 30);
  const importRounds = option('import-rounds', 3);
  const warmup = 3;
  const database = await createScratchDatabase();
  const target = new URL(serviceUrls.postgres());
  const counter = new StatementCounter(target.hostname, Number(target.port || 5432));
  const proxyPort = await counter.listen();
  const proxied = new URL(database.url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxyPort);
  const server = await startServer({ env: { DATABASE_URL: proxied.toString(), LOG_LEVEL: 'warn' } });
  const pool = new Pool({ connectionString: database.url, max: 3 });
  try {
    const owner = await registerAccount(server.http, 'bench-owner@example.com', PASSWORD);
    const session = await passwordLogin(server.http, owner);
    const ctx: Context = { server, pool, counter, owner, session };
    process.stdout.write(`organization benchmarks: all-in-one on PostgreSQL; statements counted on the wire\n`);
    const pathSizes = option('paths', 1) > 0 ? [50, 500] : [];
    if (pathSizes.length > 0) await benchStatements(ctx, pathSizes);
    if (members > 0) await benchMembersList(ctx, members, rounds, warmup);
    if (importSize > 0) await benchImport(ctx, importSize, importGroups, importRounds);
  } catch (error) {
    process.stderr.write(`server log (tail):\n${server.output().slice(-4000)}\n`);
    throw error;
  } finally {
    await pool.end().catch(() => undefined);
    await server.stop('SIGKILL');
    server.cleanup();
    await counter.close();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
