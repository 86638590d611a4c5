/**
 * SCIM provisioning benchmark against the compiled all-in-one (embedded database unless `--postgres`):
 *
 * - `POST /scim/v2/{org}/Users` for N new users one after another, then N more from 8 clients at once
 *   (each an invitation through MembersService: seat check, insert, event, invitation token and mail);
 * - one Group created empty, then one `PATCH` adding M members in a single request, then the same
 *   PATCH again (Entra re-sends adds of present members: nothing to write);
 * - G groups created one after another by `POST /Groups`, each with K of the users as members (a
 *   sliding window over them, so memberships overlap as in a real directory).
 *
 * Prints wall time, requests/s and p50/p99 per operation.
 *
 *   npm run bench:scim                                  # 10,000 users each way, 5,000-member PATCH, 500 groups of 20
 *   npm run bench:scim -- --users 1000 --members 500 --groups 50 --group-members 10
 *   npm run bench:scim -- --postgres                    # on the PostgreSQL of TEST_DATABASE_URL
 */
import { performance } from 'node:perf_hooks';
import {
  createOrganizationAs,
  createScratchDatabase,
  passwordLogin,
  registerAccount,
  startServer,
  type HttpClient,
} from '@keyhaven/testing';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : NaN;
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const USERS = option('users', 10_000);
const MEMBERS = option('members', 5_000);
const GROUPS = option('groups', 500);
const GROUP_MEMBERS = option('group-members', 20);
const PARALLEL = 8;

interface Timed {
  readonly label: string;
  readonly samples: number[];
  readonly wallMs: number;
}

function report(t: Timed): void {
  const perSecond = t.samples.length / (t.wallMs / 1000);
  process.stdout.write(
    `${t.label.padEnd(42)} n=${String(t.samples.length).padStart(6)}  wall ${(t.wallMs / 1000).toFixed(1).padStart(7)} s` +
      `  ${perSecond.toFixed(1).padStart(7)}/s  p50 ${percentile(t.samples, 50).toFixed(1).padStart(7)} ms` +
      `  p99 ${percentile(t.samples, 99).toFixed(1).padStart(7)} ms\n`,
  );
}

async function main(): Promise<void> {
  const database = process.argv.includes('--postgres') ? await createScratchDatabase() : undefined;
  const server = await startServer({
    env: { LOG_LEVEL: 'warn', ...(database ? { DATABASE_URL: database.url } : {}) },
  });
  try {
    const http: HttpClient = server.http;
    const owner = await registerAccount(http, 'bench-owner@example.com', 'benchmark password');
    const session = await passwordLogin(http, owner);
    const orgId = await createOrganizationAs(http, owner, session.accessToken, 'SCIM bench');
    const connection = await http.post('/api/organizations/connections', {
      token: session.accessToken,
      json: { type: 2, organizationId: orgId, enabled: true, config: { enabled: true } },
    });
    if (connection.status !== 200) throw new Error(`connection: ${connection.status} ${connection.text}`);
    const keyRes = await http.post<{ apiKey: string }>(`/api/organizations/${orgId}/api-key`, {
      token: session.accessToken,
      json: { type: 2, masterPasswordHash: owner.masterPasswordHash },
    });
    if (keyRes.status !== 200) throw new Error(`key: ${keyRes.status} ${keyRes.text}`);
    const headers = { authorization: `Bearer ${keyRes.body.apiKey}` };
    const scim = <T>(method: string, path: string, body: unknown) =>
      http.request<T>(method, `/scim/v2/${orgId}${path}`, {
        headers,
        rawBody: JSON.stringify(body),
        contentType: 'application/scim+json',
      });
    const ids: string[] = [];
    const createUser = async (n: number, samples: number[]): Promise<void> => {
      const email = `user-${n}@scim-bench.example`;
      const started = performance.now();
      const res = await scim<{ id: string }>('POST', '/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: email,
        externalId: `ext-${n}`,
        emails: [{ value: email, primary: true, type: 'work' }],
        active: true,
      });
      samples.push(performance.now() - started);
      if (res.status !== 201) throw new Error(`POST /Users: ${res.status} ${res.text}`);
      ids.push(res.body.id);
    };

    const sequential: number[] = [];
    let started = performance.now();
    for (let n = 0; n < USERS; n += 1) await createUser(n, sequential);
    report({ label: 'POST /Users, sequential', samples: sequential, wallMs: performance.now() - started });

    const parallel: number[] = [];
    let next = USERS;
    started = performance.now();
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < 2 * USERS) {
          const n = next;
          next += 1;
          await createUser(n, parallel);
        }
      }),
    );
    report({ label: `POST /Users, ${PARALLEL} in parallel`, samples: parallel, wallMs: performance.now() - started });

    const group = await scim<{ id: string }>('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Everyone',
      members: [],
    });
    if (group.status !== 201) throw new Error(`POST /Groups: ${group.status} ${group.text}`);
    const members = ids.slice(0, MEMBERS).map((value) => ({ value }));
    const patch = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: 'members', value: members }],
    };
    for (const label of [`PATCH /Groups add ${members.length} members`, 'the same PATCH again (nothing new)']) {
      started = performance.now();
      const res = await scim('PATCH', `/Groups/${group.body.id}`, patch);
      const ms = performance.now() - started;
      if (res.status !== 204) throw new Error(`PATCH /Groups: ${res.status} ${res.text}`);
      report({ label, samples: [ms], wallMs: ms });
    }

    const groupSamples: number[] = [];
    const size = Math.min(GROUP_MEMBERS, ids.length);
    started = performance.now();
    for (let g = 0; g < GROUPS; g += 1) {
      const first = ids.length === 0 ? 0 : (g * size) % ids.length;
      const value = Array.from({ length: size }, (_, i) => ({ value: ids[(first + i) % ids.length] }));
      const at = performance.now();
      const res = await scim('POST', '/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: `Team ${g}`,
        externalId: `group-ext-${g}`,
        members: value,
      });
      groupSamples.push(performance.now() - at);
      if (res.status !== 201) throw new Error(`POST /Groups: ${res.status} ${res.text}`);
    }
    report({ label: `POST /Groups, ${size} members each`, samples: groupSamples, wallMs: performance.now() - started });
  } finally {
    await server.stop();
    server.cleanup();
    await database?.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
