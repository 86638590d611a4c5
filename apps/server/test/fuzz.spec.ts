import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { HttpResponse } from '@keyhaven/testing';
import { encryptCipher, encryptFolder } from '@keyhaven/vault-crypto';
import { allServices } from '../src/services';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { discoverRoutes, wholeDatabaseFingerprintSql, type RouteSpec } from './fuzz-routes';
import { call, createOrg, createOrgItem, join, newPerson, ok, type Org, type Person } from './org-fixtures';

/**
 * Hostile values on every route the application registers (read from the controllers' Nest metadata,
 * so new routes are covered without touching this file), as the org owner and with the
 * organization's API key for the public API, on each database: no answer is a 500, every refused
 * request leaves the whole database exactly as it was, and every error is in the route's wire shape.
 */

const ROUTES = discoverRoutes(allServices);

interface Probe {
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly token?: string | undefined;
  readonly json?: unknown;
  readonly rawBody?: string | Buffer;
  readonly contentType?: string;
  readonly form?: Record<string, string>;
  readonly headers?: Record<string, string>;
}

const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** Bodies no route may store, whatever it expects. */
const HOSTILE_BODIES: readonly (Pick<Probe, 'json' | 'rawBody' | 'contentType' | 'form'> & { label: string })[] = [
  { label: 'object nested 5000 deep', rawBody: deepObject(5000) },
  { label: 'object nested 65 deep', rawBody: `{"name":${deepObject(64)}}` },
  { label: 'array nested 65 deep', rawBody: `{"ids":${deepArray(65)}}` },
  { label: 'huge arrays', json: { ids: Array.from({ length: 30_000 }, () => randomUUID()), emails: [], ciphers: [] } },
  { label: 'huge strings', json: { name: 'x'.repeat(1_500_000), masterPasswordHash: 'y'.repeat(100_000) } },
  {
    label: 'lone surrogates',
    rawBody:
      '{"name":"\\ud800","masterPasswordHash":"\\udfff","email":"a\\ud800@example.com","key":"2.\\udc00","\\ud801":1}',
  },
  {
    label: 'NUL bytes',
    json: { name: 'a\u0000b', email: '\u0000@example.com', masterPasswordHash: '\u0000', token: '\u0000' },
  },
  {
    label: 'out-of-range numbers',
    json: {
      type: 2 ** 31,
      kdf: 40_000,
      kdfIterations: 1e12,
      kdfMemory: -(2 ** 40),
      kdfParallelism: 1e300,
      reprompt: 70_000,
      status: -99_999,
      seats: 2 ** 53,
      enabled: 1.5,
    },
  },
  {
    label: 'out-of-range dates',
    json: {
      archivedDate: '+275760-09-13T00:00:00.000Z',
      lastKnownRevisionDate: '-271821-04-20T00:00:00.000Z',
      revisionDate: '0000-01-01T00:00:00Z',
      creationDate: '+010000-01-01T00:00:00Z',
      deletedDate: '-001000-01-01T00:00:00Z',
    },
  },
  { label: 'null', rawBody: 'null' },
  { label: 'array', json: [] },
  { label: 'wrong field types', json: { name: { nested: true }, ids: 'x', type: '1', emails: 7, enabled: 'yes' } },
  { label: 'malformed JSON', rawBody: '{"type": 1,' },
  { label: 'text/plain', rawBody: 'hello', contentType: 'text/plain' },
  { label: 'multipart', rawBody: '--x\r\n\r\nnope\r\n--x--', contentType: 'multipart/form-data; boundary=x' },
  { label: 'form', form: { name: 'a\u0000', type: '99999', grant_type: 'password' } },
];

const HOSTILE_PARAMS = ['a%00b', '%ED%A0%80', 'x'.repeat(3000), '99999999999999999999'];

describeOnBackends('fuzz: hostile values on every route', (backend) => {
  let server: BackedServer;
  let fingerprintSql = '';
  let owner: Person;
  let org: Org;
  let apiKeyToken = '';
  let cipherId = '';
  let orgCipherId = '';

  const fingerprint = async (): Promise<string> =>
    (await server.db.rows<{ digest: string }>(fingerprintSql))[0]?.digest ?? '';

  before(async () => {
    server = await startAllInOne(backend);
    owner = await newPerson(server.http, `owner-${backend}@example.com`);
    org = await createOrg(server.http, owner, 'Fuzzed');
    const member = await newPerson(server.http, `member-${backend}@example.com`);
    await join(server.http, org, owner.token, member, { type: 2, collections: [{ id: org.defaultCollection }] });
    cipherId = ok(
      await call<{ id: string }>(
        server.http,
        owner.token,
        'POST',
        '/api/ciphers',
        encryptCipher(owner.account.userKey, { type: 1, name: 'mine', login: { username: 'u', password: 'p' } }),
      ),
      'personal item',
    ).id;
    orgCipherId = await createOrgItem(server.http, org, owner.token, 'shared', [org.defaultCollection]);
    ok(
      await call(server.http, owner.token, 'POST', '/api/folders', encryptFolder(owner.account.userKey, 'f')),
      'folder',
    );
    const key = ok(
      await call<{ apiKey: string }>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/api-key`, {
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'org api key',
    );
    const grant = await server.http.post<{ access_token: string }>('/identity/connect/token', {
      form: {
        grant_type: 'client_credentials',
        scope: 'api.organization',
        client_id: `organization.${org.id}`,
        client_secret: key.apiKey,
      },
    });
    apiKeyToken = ok(grant, 'org api token').access_token;
    fingerprintSql = await wholeDatabaseFingerprintSql((text) => server.db.rows(text));
  });

  after(async () => {
    await server.stop();
  });

  function tokenFor(path: string): string {
    return path.startsWith('/api/public/') ? apiKeyToken : owner.token;
  }

  function fill(route: RouteSpec, hostile?: { index: number; value: string }): string {
    let index = 0;
    return route.path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
      if (hostile && hostile.index === index++) return hostile.value;
      if (/^org/i.test(name)) return org.id;
      if (name === 'userId') return owner.userId;
      if (name === 'type') return '0';
      return randomUUID();
    });
  }

  function send(probe: Probe): Promise<HttpResponse> {
    return server.http.request(probe.method, probe.path, {
      ...(probe.token ? { token: probe.token } : {}),
      ...(probe.json !== undefined ? { json: probe.json } : {}),
      ...(probe.rawBody !== undefined
        ? { rawBody: probe.rawBody, contentType: probe.contentType ?? 'application/json' }
        : {}),
      ...(probe.form ? { form: probe.form } : {}),
      ...(probe.headers ? { headers: probe.headers } : {}),
    });
  }

  const BROWSER_PAGES = /^\/(identity\/connect\/authorize|sso\/oidc-signin|sso\/saml2\/[^/?]+\/acs)(\?|$)/i;

  /** What is wrong with an answer to a probe that must be refused; null when it is right. */
  function refusalFault(probe: Probe, res: HttpResponse, expectRefusal: boolean): string | null {
    if (res.status >= 500) return `${res.status} ${res.text.slice(0, 200)}`;
    if (res.status < 400) return expectRefusal ? `accepted with ${res.status}` : null;
    if (/\n\s+at |node_modules/.test(res.text)) return 'stack trace in the answer';
    if (res.status === 429 && !res.headers['retry-after']) return '429 without Retry-After';
    // The SSO steps a browser visits answer the person with a plain HTML error page, not JSON.
    if (BROWSER_PAGES.test(probe.path) && String(res.headers['content-type'] ?? '').startsWith('text/html'))
      return null;
    const body = res.body as Record<string, unknown> | string;
    if (typeof body !== 'object') return `error body is not JSON: ${body.slice(0, 120)}`;
    // SCIM clients get SCIM's error body (RFC 7644 §3.12) with the same status.
    if (/^\/scim\/v2\//i.test(probe.path)) {
      const schemas = body['schemas'];
      return Array.isArray(schemas) &&
        schemas.includes('urn:ietf:params:scim:api:messages:2.0:Error') &&
        body['status'] === String(res.status)
        ? null
        : `not SCIM's error shape: ${res.text.slice(0, 200)}`;
    }
    if (/\/connect\/token/.test(probe.path)) {
      return typeof body['error'] === 'string' ? null : `not an OAuth error: ${res.text.slice(0, 200)}`;
    }
    if (body['object'] !== 'error' || typeof body['message'] !== 'string' || !('validationErrors' in body)) {
      return `not Bitwarden's error shape: ${res.text.slice(0, 200)}`;
    }
    return null;
  }

  /** Runs probes one after another; collects every fault rather than stopping at the first. */
  async function runProbes(probes: readonly Probe[], expectRefusal: boolean): Promise<string[]> {
    const faults: string[] = [];
    let before = await fingerprint();
    for (const probe of probes) {
      const res = await send(probe);
      const afterwards = await fingerprint();
      const name = `${probe.method} ${probe.path.slice(0, 120)} [${probe.label}]`;
      const fault = refusalFault(probe, res, expectRefusal);
      if (fault) faults.push(`${name}: ${fault}`);
      if (res.status >= 400 && afterwards !== before)
        faults.push(`${name}: refused with ${res.status} but the database changed`);
      before = afterwards;
    }
    return faults;
  }

  test('the route table comes from the application', () => {
    assert.ok(ROUTES.length >= 100, `only ${ROUTES.length} routes discovered`);
    for (const expected of ['POST /api/ciphers', 'GET /api/sync', 'POST /identity/connect/token']) {
      assert.ok(
        ROUTES.some((r) => `${r.method} ${r.path}` === expected),
        expected,
      );
    }
  });

  test('every route: hostile path parameters, queries and bodies are refused, change nothing, never 500', async () => {
    const probes: Probe[] = [];
    for (const route of ROUTES) {
      const token = tokenFor(route.path);
      route.params.forEach((_name, index) => {
        for (const value of HOSTILE_PARAMS) {
          probes.push({
            label: `param ${index} ${value.slice(0, 12)}`,
            method: route.method,
            path: fill(route, { index, value }),
            token,
          });
        }
      });
      probes.push({
        label: 'repeated query names',
        method: route.method,
        path: `${fill(route)}?organizationId=${org.id}&organizationId=${org.id}&excludeDomains=true&excludeDomains=1`,
        token,
      });
      probes.push({
        label: 'hostile query',
        method: route.method,
        path: `${fill(route)}?organizationId=%00&excludeDomains=%ED%A0%80&id=a%00&type=99999999999&q=${'q'.repeat(4000)}`,
        token,
      });
      if (route.method === 'GET') continue;
      for (const body of HOSTILE_BODIES) probes.push({ ...body, method: route.method, path: fill(route), token });
    }
    // Some hostile requests are valid for some routes (a GET ignores its query; a form is a token
    // request's own type); those may succeed. Every refused one must have changed nothing.
    const faults = await runProbes(probes, false);
    assert.deepEqual(faults, [], `${faults.length} of ${probes.length} probes went wrong`);
  });

  test('valid requests with one value the database cannot hold are refused with a 400', async () => {
    const valid = (): Record<string, unknown> =>
      encryptCipher(owner.account.userKey, {
        type: 1,
        name: 'valid',
        login: { username: 'u', password: 'p', uris: [{ uri: 'https://example.com', match: null }] },
        fields: [{ type: 0, name: 'f', value: 'v', linkedId: null }],
      }) as unknown as Record<string, unknown>;
    const orgValid = (): Record<string, unknown> => ({
      ...(encryptCipher(org.orgKey, { type: 2, name: 'n', secureNote: { type: 0 } }) as unknown as Record<
        string,
        unknown
      >),
      organizationId: org.id,
    });
    const BAD_DATES = ['+010000-01-01T00:00:00.000Z', '-000001-01-01T00:00:00.000Z', '0000-06-01T00:00:00.000Z'];
    const mutations: [string, (c: Record<string, unknown>) => Record<string, unknown>][] = [
      ['type past smallint', (c) => ({ ...c, type: 32_768 })],
      ['type past int32', (c) => ({ ...c, type: 2 ** 31 })],
      ['type 1e20', (c) => ({ ...c, type: 1e20 })],
      ['reprompt past smallint', (c) => ({ ...c, reprompt: 70_000 })],
      ...BAD_DATES.map((d): [string, (c: Record<string, unknown>) => Record<string, unknown>] => [
        `archivedDate ${d}`,
        (c) => ({ ...c, archivedDate: d }),
      ]),
      ...BAD_DATES.map((d): [string, (c: Record<string, unknown>) => Record<string, unknown>] => [
        `lastKnownRevisionDate ${d}`,
        (c) => ({ ...c, lastKnownRevisionDate: d }),
      ]),
      ['field type 1e6', (c) => ({ ...c, fields: [{ type: 1e6, name: null, value: null }] })],
      ['linkedId 1e9', (c) => ({ ...c, fields: [{ type: 3, name: null, value: null, linkedId: 1e9 }] })],
      ['uri match 1e9', (c) => ({ ...c, login: { uris: [{ uri: null, match: 1e9 }] } })],
      ['secure note type 1e9', (c) => ({ ...c, type: 2, secureNote: { type: 1e9 } })],
      ['unknown field 33 deep', (c) => ({ ...c, future: JSON.parse(deepObject(33)) as unknown })],
      ['unknown field 33 deep, nested', (c) => ({ ...c, login: { future: [JSON.parse(deepObject(32)) as unknown] } })],
      ['unknown fields past 256 KiB', (c) => ({ ...c, future: 'x'.repeat(270_000) })],
      ['unknown fields past 256 KiB, nested', (c) => ({ ...c, login: { future: ['y'.repeat(270_000)] } })],
      ['NUL in an unknown field', (c) => ({ ...c, future: { note: 'a\u0000' } })],
      ['lone surrogate in an unknown key', (c) => ({ ...c, ['\ud800']: 1 })],
    ];
    const probes: Probe[] = [];
    for (const [label, mutate] of mutations) {
      const mine = mutate(valid());
      const theirs = mutate(orgValid());
      probes.push(
        { label, method: 'POST', path: '/api/ciphers', token: owner.token, json: mine },
        { label, method: 'PUT', path: `/api/ciphers/${cipherId}`, token: owner.token, json: mine },
        { label, method: 'PUT', path: `/api/ciphers/${orgCipherId}`, token: owner.token, json: theirs },
        {
          label,
          method: 'POST',
          path: '/api/ciphers/create',
          token: owner.token,
          json: { cipher: theirs, collectionIds: [org.defaultCollection] },
        },
        {
          label,
          method: 'PUT',
          path: `/api/ciphers/${cipherId}/share`,
          token: owner.token,
          json: { cipher: theirs, collectionIds: [org.defaultCollection] },
        },
        {
          label,
          method: 'POST',
          path: '/api/ciphers/import',
          token: owner.token,
          json: { ciphers: [valid(), mine], folders: [], folderRelationships: [] },
        },
        {
          label,
          method: 'POST',
          path: `/api/ciphers/import-organization?organizationId=${org.id}`,
          token: owner.token,
          json: { ciphers: [orgValid(), theirs], collections: [], collectionRelationships: [] },
        },
      );
    }
    const orgs = `/api/organizations/${org.id}`;
    const invite = { emails: [`new-${randomUUID()}@example.com`], collections: [], groups: [] };
    probes.push(
      {
        label: 'member type past smallint',
        method: 'POST',
        path: `${orgs}/users/invite`,
        token: owner.token,
        json: { ...invite, type: 32_768 },
      },
      {
        label: 'member type unknown',
        method: 'POST',
        path: `${orgs}/users/invite`,
        token: owner.token,
        json: { ...invite, type: 3 },
      },
      {
        label: 'permissions past 64 KiB',
        method: 'POST',
        path: `${orgs}/users/invite`,
        token: owner.token,
        json: { ...invite, type: 4, permissions: { x: 'p'.repeat(70_000) } },
      },
      ...['99999999999', '2147483648', '32768', '-1'].map((type) => ({
        label: `policy type ${type}`,
        method: 'PUT',
        path: `${orgs}/policies/${type}`,
        token: owner.token,
        json: { enabled: true, data: null },
      })),
      {
        label: 'policy data past 64 KiB',
        method: 'PUT',
        path: `${orgs}/policies/0`,
        token: owner.token,
        json: { enabled: false, data: { x: 'd'.repeat(70_000) } },
      },
      {
        label: 'NUL in a base64 header',
        method: 'GET',
        path: '/api/devices/knowndevice',
        headers: {
          'x-request-email': Buffer.from('a\u0000@example.com').toString('base64url'),
          'x-device-identifier': randomUUID(),
        },
      },
      ...['99999', '2147483648', '-40000', '1e400', '1.5'].map((deviceType) => ({
        label: `device type ${deviceType} at login`,
        method: 'POST',
        path: '/identity/connect/token',
        form: {
          grant_type: 'password',
          username: owner.email,
          password: owner.account.masterPasswordHash,
          scope: 'api offline_access',
          client_id: 'cli',
          deviceType,
          deviceIdentifier: randomUUID(),
          deviceName: 'fuzz',
        },
      })),
      {
        label: 'NUL in a device identifier at login',
        method: 'POST',
        path: '/identity/connect/token',
        form: {
          grant_type: 'password',
          username: owner.email,
          password: owner.account.masterPasswordHash,
          scope: 'api offline_access',
          client_id: 'cli',
          deviceType: '25',
          deviceIdentifier: 'a\u0000b',
          deviceName: 'fuzz\u0000',
        },
      },
    );
    const faults = await runProbes(probes, true);
    assert.deepEqual(faults, [], `${faults.length} of ${probes.length} probes went wrong`);
  });

  test('every route without a token, or with a forged one, answers in its wire shape and changes nothing', async () => {
    const forged = `${owner.token.slice(0, -8)}AAAAAAAA`;
    const probes: Probe[] = ROUTES.flatMap((route) => [
      { label: 'no token', method: route.method, path: fill(route) },
      { label: 'forged token', method: route.method, path: fill(route), token: forged },
    ]);
    const faults = await runProbes(probes, false);
    assert.deepEqual(faults, [], `${faults.length} of ${probes.length} probes went wrong`);
  });

  test('URL, header and transport errors answer in the wire shape', async () => {
    const faults = await runProbes(
      [
        { label: 'unknown route', method: 'GET', path: '/api/no/such/route', token: owner.token },
        { label: 'unknown route, POST', method: 'POST', path: '/api/nope', token: owner.token, json: {} },
        { label: 'bad URL encoding', method: 'GET', path: '/api/ciphers/%zz', token: owner.token },
        { label: 'bad URL encoding, unknown', method: 'GET', path: '/api/%E0%A4%A', token: owner.token },
        {
          label: '413',
          method: 'POST',
          path: '/api/ciphers',
          token: owner.token,
          json: { padding: 'x'.repeat(3 * 1024 * 1024) },
        },
        {
          label: 'token endpoint, JSON',
          method: 'POST',
          path: '/identity/connect/token',
          json: { grant_type: 'password', username: '\u0000' },
        },
        { label: 'token endpoint, malformed JSON', method: 'POST', path: '/identity/connect/token', rawBody: '{' },
      ],
      true,
    );
    assert.deepEqual(faults, []);
    // An oversized header block never reaches Fastify: Node's parser refuses it, in Bitwarden's shape.
    const raw = await rawRequest(
      `GET /api/sync HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'p'.repeat(20_000)}\r\n\r\n`,
    );
    assert.match(raw, /^HTTP\/1\.1 431 /);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    assert.equal(body['object'], 'error');
    assert.equal(typeof body['message'], 'string');
    const nulHeader = await rawRequest(`GET /api/sync HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\0b\r\n\r\n`);
    assert.match(nulHeader, /^HTTP\/1\.1 400 /);
    assert.match(nulHeader, /"object":"error"/);
  });

  test('no unhandled error and no validation gap was logged, and the owner can still sync', async () => {
    assert.equal((await call(server.http, owner.token, 'GET', '/api/sync')).status, 200);
    assert.doesNotMatch(server.output(), /unhandled error|edge validation let through/);
  });

  function rawRequest(text: string): Promise<string> {
    const url = new URL(server.url);
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port: Number(url.port),
        servername: 'localhost',
        ...(server.caPath ? { ca: readFileSync(server.caPath) } : {}),
      });
      const chunks: Buffer[] = [];
      socket.on('secureConnect', () => socket.write(text));
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => {
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      socket.on('close', () => {
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      socket.on('error', reject);
      socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
    });
  }
});

describeOnBackends('every 429 carries Retry-After, in its route wire shape', (backend) => {
  let server: BackedServer;
  let person: Person;

  before(async () => {
    server = await startAllInOne(backend, { LOGIN_RATE_LIMIT_PER_MINUTE: '4', LOGIN_FAILURES_PER_ACCOUNT: '2' });
    person = await newPerson(server.http, `limited-${backend}@example.com`);
  });

  after(async () => {
    await server.stop();
  });

  /** Sends until the answer is a 429 (at most `tries`) and returns it. */
  async function until429(send: () => Promise<HttpResponse>, tries = 10): Promise<HttpResponse> {
    let res = await send();
    for (let i = 1; i < tries && res.status !== 429; i++) res = await send();
    assert.equal(res.status, 429, res.text);
    const retryAfter = Number(res.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0, `Retry-After: ${String(res.headers['retry-after'])}`);
    return res;
  }

  test('master-password re-checks (api), logins (identity token) and prelogin', async () => {
    const verify = await until429(() =>
      call(server.http, person.token, 'POST', '/api/accounts/verify-password', { masterPasswordHash: 'd3Jvbmc=' }),
    );
    assert.equal((verify.body as { object?: string }).object, 'error');
    const login = await until429(() =>
      server.http.post('/identity/connect/token', {
        form: { grant_type: 'password', username: person.email, password: 'd3Jvbmc=', client_id: 'cli', scope: 'api' },
      }),
    );
    assert.equal(typeof (login.body as { error?: unknown }).error, 'string');
    await until429(() =>
      server.http.post('/identity/accounts/prelogin/password', { json: { email: `x-${randomUUID()}@example.com` } }),
    );
  });
});
