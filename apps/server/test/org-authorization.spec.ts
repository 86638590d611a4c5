import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { HttpClient, HttpResponse } from '@keyhaven/testing';
import {
  decryptCipher,
  encryptCipher,
  encryptType2,
  wrapOrgKeyForMember,
  type CipherRequest,
  type EncryptedCipher,
} from '@keyhaven/vault-crypto';
import {
  type Db,
  MemberStatus,
  MemberType,
  accept,
  assertApiError,
  call,
  createCollection,
  createOrg,
  createOrgItem,
  createPersonalItem,
  join,
  newPeople,
  newPerson,
  ok,
  type InviteOptions,
  type Member,
  type Method,
  type Org,
  type Stage,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';

/**
 * Organizations attacked from every side: another tenant, a weaker role, a membership that is not
 * (or no longer) confirmed. Every refused request must also leave the database exactly as it was.
 */

const ROLES = [
  'owner',
  'admin',
  'userEdit',
  'userRO',
  'userHide',
  'customUsers',
  'customColl',
  'grouped',
  'invited',
  'accepted',
  'revoked',
] as const;
type Role = (typeof ROLES)[number];

const CONFIRMED: readonly Role[] = [
  'owner',
  'admin',
  'userEdit',
  'userRO',
  'userHide',
  'customUsers',
  'customColl',
  'grouped',
];
const ADMINS: readonly Role[] = ['owner', 'admin'];
const USER_MANAGERS: readonly Role[] = ['owner', 'admin', 'customUsers'];

type ItemKind = 'c1' | 'c2' | 'unassigned';
const ITEM_KINDS: readonly ItemKind[] = ['c1', 'c2', 'unassigned'];

interface Tenant extends Org {
  readonly label: string;
  readonly members: Record<Role, Member>;
  /** Shared with userEdit (manage), userRO (read only), userHide (hide passwords), and the three unconfirmed members. */
  readonly c1: string;
  /** Reached only through group G by `grouped`. */
  readonly c2: string;
  readonly groupId: string;
  readonly items: Record<ItemKind, string>;
}

/** How each member is invited and how far they get. */
function memberPlan(c1: string): Record<Exclude<Role, 'owner'>, { options: InviteOptions; stage: Stage }> {
  const onC1 = (extra: { readOnly?: boolean; hidePasswords?: boolean; manage?: boolean } = {}): InviteOptions => ({
    type: MemberType.User,
    collections: [{ id: c1, ...extra }],
  });
  return {
    admin: { options: { type: MemberType.Admin }, stage: 'confirmed' },
    userEdit: { options: onC1({ manage: true }), stage: 'confirmed' },
    userRO: { options: onC1({ readOnly: true }), stage: 'confirmed' },
    userHide: { options: onC1({ hidePasswords: true }), stage: 'confirmed' },
    customUsers: { options: { type: MemberType.Custom, permissions: { manageUsers: true } }, stage: 'confirmed' },
    customColl: { options: { type: MemberType.Custom, permissions: { editAnyCollection: true } }, stage: 'confirmed' },
    grouped: { options: { type: MemberType.User }, stage: 'confirmed' },
    invited: { options: onC1(), stage: 'invited' },
    accepted: { options: onC1(), stage: 'accepted' },
    revoked: { options: onC1(), stage: 'revoked' },
  };
}

async function buildTenant(http: HttpClient, label: string): Promise<Tenant> {
  const people = await newPeople(
    http,
    ROLES.map((r) => `${label}-${r.toLowerCase()}@example.com`),
  );
  const byRole = Object.fromEntries(ROLES.map((r, i) => [r, people[i]])) as Record<Role, (typeof people)[number]>;
  const org = await createOrg(http, byRole.owner, `Org ${label}`);
  const token = org.owner.token;
  const c1 = await createCollection(http, org, token, `${label} C1`);
  const c2 = await createCollection(http, org, token, `${label} C2`);
  const plan = memberPlan(c1);
  const joined = await Promise.all(
    (Object.keys(plan) as (keyof typeof plan)[]).map(
      async (role) => [role, await join(http, org, token, byRole[role], plan[role].options, plan[role].stage)] as const,
    ),
  );
  const members = { owner: org.owner, ...Object.fromEntries(joined) } as Record<Role, Member>;
  const group = ok(
    await call<{ id: string }>(http, token, 'POST', `/api/organizations/${org.id}/groups`, {
      name: `${label} G`,
      collections: [{ id: c2, readOnly: false, hidePasswords: false, manage: false }],
      users: [members.grouped.memberId],
    }),
    'create group',
  );
  const items = {
    c1: await createOrgItem(http, org, token, `${label}-in-c1`, [c1]),
    c2: await createOrgItem(http, org, token, `${label}-in-c2`, [c2]),
    unassigned: await createOrgItem(http, org, token, `${label}-unassigned`, []),
  };
  return { ...org, label, members, c1, c2, groupId: group.id, items };
}

/** The same tenant with every id replaced by one nobody has: what "does not exist" looks like. */
function withRandomIds(t: Tenant): Tenant {
  const members = Object.fromEntries(
    ROLES.map((r) => [r, { ...t.members[r], memberId: randomUUID(), userId: randomUUID() }]),
  ) as Record<Role, Member>;
  return {
    ...t,
    members,
    c1: randomUUID(),
    c2: randomUUID(),
    groupId: randomUUID(),
    items: { c1: randomUUID(), c2: randomUUID(), unassigned: randomUUID() },
  };
}

interface Req {
  readonly method: Method;
  readonly path: string;
  readonly json?: unknown;
}

interface Route {
  readonly name: string;
  /** `at`: the organization in the path; `of`: whose ids the request names; `actor`: who sends it. */
  readonly build: (at: Tenant, of: Tenant, actor: Member) => Req;
  /** Roles of the organization that may do it; everyone else gets 404. */
  readonly allowed: readonly Role[];
  /** A read: the allowed roles run it too, and must get 200 with nothing changed. */
  readonly read?: boolean;
  /** Names no id but the organization's: there is no "foreign id under my own org" variant. */
  readonly orgOnly?: boolean;
  /** What an owner gets for another organization's ids under their own org's path (default 404). */
  readonly foreignStatus?: number;
}

const o = (t: Tenant): string => `/api/organizations/${t.id}`;
const mph = (actor: Member): { masterPasswordHash: string } => ({
  masterPasswordHash: actor.account.masterPasswordHash,
});
const orgItem = (t: Tenant, name: string): CipherRequest & { organizationId: string } => ({
  ...encryptCipher(t.orgKey, { type: 1, name, login: { username: 'u', password: 'p' } }),
  organizationId: t.id,
});

/** Every org-scoped route, with who may use it. */
const ROUTES: readonly Route[] = [
  // Organization
  { name: 'GET org', build: (at) => ({ method: 'GET', path: o(at) }), allowed: ADMINS, read: true, orgOnly: true },
  {
    name: 'PUT org',
    build: (at) => ({ method: 'PUT', path: o(at), json: { name: 'Renamed', billingEmail: 'x@example.com' } }),
    allowed: ['owner'],
    orgOnly: true,
  },
  {
    name: 'DELETE org',
    build: (at, _of, actor) => ({ method: 'DELETE', path: o(at), json: mph(actor) }),
    allowed: ['owner'],
    orgOnly: true,
  },
  {
    name: 'POST org/delete',
    build: (at, _of, actor) => ({ method: 'POST', path: `${o(at)}/delete`, json: mph(actor) }),
    allowed: ['owner'],
    orgOnly: true,
  },
  {
    name: 'POST org/leave',
    build: (at) => ({ method: 'POST', path: `${o(at)}/leave` }),
    allowed: CONFIRMED,
    orgOnly: true,
  },
  {
    name: 'GET org/keys',
    build: (at) => ({ method: 'GET', path: `${o(at)}/keys` }),
    // Also accepted members: a new SSO member auto-enrols in account recovery before confirmation.
    allowed: [...CONFIRMED, 'accepted'],
    read: true,
    orgOnly: true,
  },
  {
    name: 'POST org/api-key',
    build: (at, _of, actor) => ({ method: 'POST', path: `${o(at)}/api-key`, json: mph(actor) }),
    allowed: ['owner'],
    read: true,
    orgOnly: true,
  },
  {
    name: 'POST org/rotate-api-key',
    build: (at, _of, actor) => ({ method: 'POST', path: `${o(at)}/rotate-api-key`, json: mph(actor) }),
    allowed: ['owner'],
    orgOnly: true,
  },
  {
    name: 'GET org/export',
    build: (at) => ({ method: 'GET', path: `${o(at)}/export` }),
    allowed: ADMINS,
    read: true,
    orgOnly: true,
  },
  // Members
  {
    name: 'GET users',
    build: (at) => ({ method: 'GET', path: `${o(at)}/users` }),
    allowed: USER_MANAGERS,
    read: true,
    orgOnly: true,
  },
  {
    name: 'GET users/{id}',
    build: (at, of) => ({ method: 'GET', path: `${o(at)}/users/${of.members.userRO.memberId}` }),
    allowed: USER_MANAGERS,
    read: true,
  },
  {
    name: 'POST users/invite',
    build: (at, of) => ({
      method: 'POST',
      path: `${o(at)}/users/invite`,
      json: {
        emails: [`new-${randomUUID()}@example.com`],
        type: MemberType.User,
        collections: [{ id: of.c1, readOnly: false, hidePasswords: false, manage: false }],
        groups: [],
      },
    }),
    allowed: USER_MANAGERS,
    orgOnly: true,
  },
  {
    name: 'POST users/reinvite',
    build: (at, of) => ({
      method: 'POST',
      path: `${o(at)}/users/reinvite`,
      json: { ids: [of.members.invited.memberId] },
    }),
    allowed: USER_MANAGERS,
    read: true,
  },
  {
    name: 'POST users/{id}/reinvite',
    build: (at, of) => ({ method: 'POST', path: `${o(at)}/users/${of.members.invited.memberId}/reinvite` }),
    allowed: USER_MANAGERS,
    read: true,
  },
  {
    name: 'POST users/public-keys',
    build: (at, of) => ({
      method: 'POST',
      path: `${o(at)}/users/public-keys`,
      json: { ids: [of.members.accepted.memberId] },
    }),
    allowed: USER_MANAGERS,
    read: true,
    foreignStatus: 200,
  },
  {
    name: 'POST users/confirm (bulk)',
    build: (at, of) => ({
      method: 'POST',
      path: `${o(at)}/users/confirm`,
      json: {
        keys: [
          {
            id: of.members.accepted.memberId,
            key: wrapOrgKeyForMember(at.orgKey, of.members.accepted.account.publicKey),
          },
        ],
      },
    }),
    allowed: USER_MANAGERS,
    foreignStatus: 200,
  },
  {
    name: 'POST users/{id}/confirm',
    build: (at, of) => ({
      method: 'POST',
      path: `${o(at)}/users/${of.members.accepted.memberId}/confirm`,
      json: { key: wrapOrgKeyForMember(at.orgKey, of.members.accepted.account.publicKey) },
    }),
    allowed: USER_MANAGERS,
    foreignStatus: 400,
  },
  {
    name: 'PUT users/{id}',
    build: (at, of) => ({
      method: 'PUT',
      path: `${o(at)}/users/${of.members.userRO.memberId}`,
      json: { type: MemberType.User, collections: [], groups: [] },
    }),
    allowed: USER_MANAGERS,
  },
  {
    name: 'PUT users/revoke (bulk)',
    build: (at, of) => ({ method: 'PUT', path: `${o(at)}/users/revoke`, json: { ids: [of.members.userRO.memberId] } }),
    allowed: USER_MANAGERS,
  },
  {
    name: 'PUT users/restore (bulk)',
    build: (at, of) => ({
      method: 'PUT',
      path: `${o(at)}/users/restore`,
      json: { ids: [of.members.revoked.memberId] },
    }),
    allowed: USER_MANAGERS,
  },
  {
    name: 'PUT users/{id}/revoke',
    build: (at, of) => ({ method: 'PUT', path: `${o(at)}/users/${of.members.userRO.memberId}/revoke` }),
    allowed: USER_MANAGERS,
  },
  {
    name: 'PUT users/{id}/restore',
    build: (at, of) => ({ method: 'PUT', path: `${o(at)}/users/${of.members.revoked.memberId}/restore` }),
    allowed: USER_MANAGERS,
  },
  {
    name: 'DELETE users (bulk)',
    build: (at, of) => ({ method: 'DELETE', path: `${o(at)}/users`, json: { ids: [of.members.userRO.memberId] } }),
    allowed: USER_MANAGERS,
  },
  {
    name: 'DELETE users/{id}',
    build: (at, of) => ({ method: 'DELETE', path: `${o(at)}/users/${of.members.userRO.memberId}` }),
    allowed: USER_MANAGERS,
  },
  // Collections
  {
    name: 'GET collections',
    build: (at) => ({ method: 'GET', path: `${o(at)}/collections` }),
    allowed: CONFIRMED,
    read: true,
    orgOnly: true,
  },
  {
    name: 'GET collections/details',
    build: (at) => ({ method: 'GET', path: `${o(at)}/collections/details` }),
    allowed: ['owner', 'admin', 'customColl'],
    read: true,
    orgOnly: true,
  },
  {
    name: 'POST collections',
    build: (at) => ({
      method: 'POST',
      path: `${o(at)}/collections`,
      json: { name: encryptType2(at.orgKey, 'new'), users: [], groups: [] },
    }),
    allowed: ADMINS,
    orgOnly: true,
  },
  {
    name: 'GET collections/{id}',
    build: (at, of) => ({ method: 'GET', path: `${o(at)}/collections/${of.c1}` }),
    allowed: ['owner', 'admin', 'customColl', 'userEdit', 'userRO', 'userHide'],
    read: true,
  },
  {
    name: 'GET collections/{id}/details',
    build: (at, of) => ({ method: 'GET', path: `${o(at)}/collections/${of.c1}/details` }),
    allowed: ['owner', 'admin', 'customColl', 'userEdit'],
    read: true,
  },
  {
    name: 'PUT collections/{id}',
    build: (at, of) => ({
      method: 'PUT',
      path: `${o(at)}/collections/${of.c1}`,
      json: { name: encryptType2(at.orgKey, 'renamed') },
    }),
    allowed: ['owner', 'admin', 'customColl', 'userEdit'],
  },
  {
    name: 'DELETE collections/{id}',
    build: (at, of) => ({ method: 'DELETE', path: `${o(at)}/collections/${of.c1}` }),
    allowed: ['owner', 'admin', 'userEdit'],
  },
  {
    name: 'DELETE collections (bulk)',
    build: (at, of) => ({ method: 'DELETE', path: `${o(at)}/collections`, json: { ids: [of.c1] } }),
    allowed: ['owner', 'admin', 'userEdit'],
  },
  // Groups
  {
    name: 'GET groups',
    build: (at) => ({ method: 'GET', path: `${o(at)}/groups` }),
    allowed: ['owner', 'admin', 'customUsers', 'customColl'],
    read: true,
    orgOnly: true,
  },
  {
    name: 'GET groups/details',
    build: (at) => ({ method: 'GET', path: `${o(at)}/groups/details` }),
    allowed: ADMINS,
    read: true,
    orgOnly: true,
  },
  {
    name: 'POST groups',
    build: (at) => ({
      method: 'POST',
      path: `${o(at)}/groups`,
      json: { name: 'new group', collections: [], users: [] },
    }),
    allowed: ADMINS,
    orgOnly: true,
  },
  {
    name: 'GET groups/{id}',
    build: (at, of) => ({ method: 'GET', path: `${o(at)}/groups/${of.groupId}` }),
    allowed: ADMINS,
    read: true,
  },
  {
    name: 'GET groups/{id}/details',
    build: (at, of) => ({ method: 'GET', path: `${o(at)}/groups/${of.groupId}/details` }),
    allowed: ADMINS,
    read: true,
  },
  {
    name: 'GET groups/{id}/users',
    build: (at, of) => ({ method: 'GET', path: `${o(at)}/groups/${of.groupId}/users` }),
    allowed: ADMINS,
    read: true,
  },
  {
    name: 'PUT groups/{id}/users',
    build: (at, of) => ({ method: 'PUT', path: `${o(at)}/groups/${of.groupId}/users`, json: [] }),
    allowed: ADMINS,
  },
  {
    name: 'PUT groups/{id}',
    build: (at, of) => ({ method: 'PUT', path: `${o(at)}/groups/${of.groupId}`, json: { name: 'renamed' } }),
    allowed: ADMINS,
  },
  {
    name: 'DELETE groups/{id}',
    build: (at, of) => ({ method: 'DELETE', path: `${o(at)}/groups/${of.groupId}` }),
    allowed: ADMINS,
  },
  {
    name: 'DELETE groups (bulk)',
    build: (at, of) => ({ method: 'DELETE', path: `${o(at)}/groups`, json: { ids: [of.groupId] } }),
    allowed: ADMINS,
  },
  // Policies
  {
    name: 'GET policies',
    build: (at) => ({ method: 'GET', path: `${o(at)}/policies` }),
    allowed: ADMINS,
    read: true,
    orgOnly: true,
  },
  {
    name: 'GET policies/{type}',
    build: (at) => ({ method: 'GET', path: `${o(at)}/policies/2` }),
    allowed: ADMINS,
    read: true,
    orgOnly: true,
  },
  {
    name: 'PUT policies/{type}',
    build: (at) => ({ method: 'PUT', path: `${o(at)}/policies/2`, json: { enabled: true, data: { minLength: 20 } } }),
    allowed: ADMINS,
    orgOnly: true,
  },
  // Organization-wide item routes
  {
    name: 'GET ciphers/organization-details',
    build: (at) => ({ method: 'GET', path: `/api/ciphers/organization-details?organizationId=${at.id}` }),
    allowed: ['owner', 'admin', 'customColl'],
    read: true,
    orgOnly: true,
  },
  {
    name: 'POST ciphers/import-organization',
    build: (at) => ({
      method: 'POST',
      path: `/api/ciphers/import-organization?organizationId=${at.id}`,
      json: {
        ciphers: [orgItem(at, 'imported')],
        collections: [{ name: encryptType2(at.orgKey, 'imported') }],
        collectionRelationships: [{ key: 0, value: 0 }],
      },
    }),
    allowed: ADMINS,
    orgOnly: true,
  },
  {
    name: 'POST ciphers/purge?organizationId',
    build: (at, _of, actor) => ({
      method: 'POST',
      path: `/api/ciphers/purge?organizationId=${at.id}`,
      json: mph(actor),
    }),
    allowed: ['owner'],
    orgOnly: true,
  },
];

type ItemRouteName =
  | 'get'
  | 'details'
  | 'update'
  | 'partial'
  | 'share'
  | 'collections'
  | 'collections_v2'
  | 'soft delete'
  | 'restore'
  | 'delete';

/** The single-item routes, on an organization item. */
const ITEM_ROUTES: Record<ItemRouteName, (of: Tenant, id: string) => Req> = {
  get: (_of, id) => ({ method: 'GET', path: `/api/ciphers/${id}` }),
  details: (_of, id) => ({ method: 'GET', path: `/api/ciphers/${id}/details` }),
  update: (of, id) => ({ method: 'PUT', path: `/api/ciphers/${id}`, json: orgItem(of, 'overwritten') }),
  partial: (_of, id) => ({
    method: 'PUT',
    path: `/api/ciphers/${id}/partial`,
    json: { favorite: true, folderId: null },
  }),
  share: (of, id) => ({
    method: 'PUT',
    path: `/api/ciphers/${id}/share`,
    json: { cipher: orgItem(of, 'shared'), collectionIds: [of.c1] },
  }),
  collections: (of, id) => ({
    method: 'PUT',
    path: `/api/ciphers/${id}/collections`,
    json: { collectionIds: [of.c1] },
  }),
  collections_v2: (of, id) => ({
    method: 'PUT',
    path: `/api/ciphers/${id}/collections_v2`,
    json: { collectionIds: [of.c1] },
  }),
  'soft delete': (_of, id) => ({ method: 'PUT', path: `/api/ciphers/${id}/delete` }),
  restore: (_of, id) => ({ method: 'PUT', path: `/api/ciphers/${id}/restore` }),
  delete: (_of, id) => ({ method: 'DELETE', path: `/api/ciphers/${id}` }),
};

/** Which org items a role reaches in its own organization, and which it may change. */
const VISIBLE: Record<Role, readonly ItemKind[]> = {
  owner: ITEM_KINDS,
  admin: ITEM_KINDS,
  userEdit: ['c1'],
  userRO: ['c1'],
  userHide: ['c1'],
  customUsers: [],
  customColl: [],
  grouped: ['c2'],
  invited: [],
  accepted: [],
  revoked: [],
};
const EDITABLE: Record<Role, readonly ItemKind[]> = { ...VISIBLE, userRO: [] };

/**
 * What a role gets from a single-item route in its own org; null when the request would succeed and
 * change something (those are not run in the matrix).
 */
function expectedItemStatus(role: Role, kind: ItemKind, route: ItemRouteName): number | null {
  const visible = VISIBLE[role].includes(kind);
  const editable = EDITABLE[role].includes(kind);
  switch (route) {
    case 'get':
    case 'details':
      return visible ? 200 : 404;
    case 'share':
      return 404; // only a personal item can be shared
    case 'partial':
      return visible ? null : 404;
    case 'collections':
    case 'collections_v2':
      return !visible || !editable ? 404 : null;
    case 'update':
    case 'soft delete':
    case 'restore':
    case 'delete':
      return !visible ? 404 : !editable ? 400 : null;
  }
}

interface SyncBody {
  profile: { organizations: { id: string; status: number; type: number }[] };
  collections: { id: string; organizationId: string; readOnly: boolean; hidePasswords: boolean; manage: boolean }[];
  ciphers: { id: string; organizationId: string | null; edit: boolean; viewPassword: boolean }[];
  policies: { organizationId: string; type: number }[];
}

describeOnBackends('organizations: cross-tenant and role authorization', (backend) => {
  let server: BackedServer;
  let db: Db;
  let A: Tenant;
  let B: Tenant;

  const http = (): HttpClient => server.http;
  const send = (actor: Member, req: Req): Promise<HttpResponse> =>
    call(http(), actor.token, req.method, req.path, req.json);

  /** Sends one request; answers what was wrong with the outcome, or null. */
  async function outcome(label: string, actor: Member, req: Req, status: number): Promise<string | null> {
    const before = await db.fingerprint();
    const res = await send(actor, req);
    const changed = (await db.fingerprint()) !== before;
    const problems: string[] = [];
    if (res.status !== status) problems.push(`answered ${res.status}, expected ${status}: ${res.text.slice(0, 160)}`);
    else if (status >= 400 && (res.body as { object?: unknown }).object !== 'error') problems.push('no error body');
    if (changed) problems.push('CHANGED THE DATABASE');
    return problems.length > 0 ? `${label} ${req.method} ${req.path}: ${problems.join('; ')}` : null;
  }

  function assertNoProblems(problems: (string | null)[]): void {
    const found = problems.filter((p): p is string => p !== null);
    assert.deepEqual(found, [], `\n${found.join('\n')}`);
  }

  before(async () => {
    server = await startAllInOne(backend, { LOGIN_RATE_LIMIT_PER_MINUTE: '10000' });
    db = server.db;
    [A, B] = await Promise.all([buildTenant(server.http, 'a'), buildTenant(server.http, 'b')]);
  });

  after(async () => {
    await server.stop();
  });

  test('the fixture is what the tests assume', async () => {
    const statuses = await db.rows<{ id: string; status: number; type: number }>(
      'SELECT id, status, type FROM organization_user WHERE organization_id = $1',
      [A.id],
    );
    const statusOf = (r: Role): number | undefined => statuses.find((s) => s.id === A.members[r].memberId)?.status;
    assert.equal(statusOf('invited'), MemberStatus.Invited);
    assert.equal(statusOf('accepted'), MemberStatus.Accepted);
    assert.equal(statusOf('revoked'), MemberStatus.Revoked);
    for (const r of CONFIRMED) assert.equal(statusOf(r), MemberStatus.Confirmed, r);
  });

  describe('sync shows each member exactly what their membership reaches', () => {
    const expected: Record<
      Role,
      {
        org: boolean;
        collections: string[];
        items: Partial<Record<ItemKind, { edit: boolean; viewPassword: boolean }>>;
      }
    > = {
      owner: { org: true, collections: ['default', 'c1', 'c2'], items: { c1: full(), c2: full(), unassigned: full() } },
      admin: { org: true, collections: ['default', 'c1', 'c2'], items: { c1: full(), c2: full(), unassigned: full() } },
      userEdit: { org: true, collections: ['c1'], items: { c1: full() } },
      userRO: { org: true, collections: ['c1'], items: { c1: { edit: false, viewPassword: true } } },
      userHide: { org: true, collections: ['c1'], items: { c1: { edit: true, viewPassword: false } } },
      customUsers: { org: true, collections: [], items: {} },
      customColl: { org: true, collections: [], items: {} },
      grouped: { org: true, collections: ['c2'], items: { c2: full() } },
      invited: { org: false, collections: [], items: {} },
      accepted: { org: false, collections: [], items: {} },
      revoked: { org: false, collections: [], items: {} },
    };
    function full(): { edit: boolean; viewPassword: boolean } {
      return { edit: true, viewPassword: true };
    }

    for (const role of ROLES) {
      test(`${role}: organizations, collections, items and rights in /api/sync`, async () => {
        const sync = ok(await call<SyncBody>(http(), A.members[role].token, 'GET', '/api/sync'), 'sync');
        const want = expected[role];
        const collectionId = { default: A.defaultCollection, c1: A.c1, c2: A.c2 } as Record<string, string>;
        assert.deepEqual(
          sync.profile.organizations.map((org) => org.id),
          want.org ? [A.id] : [],
          'organizations',
        );
        assert.deepEqual(
          sync.collections.map((c) => c.id).sort(),
          want.collections.map((c) => collectionId[c]).sort(),
          'collections',
        );
        const orgItems = sync.ciphers.filter((c) => c.organizationId !== null);
        const wantItems = Object.entries(want.items).map(([kind, rights]) => ({
          id: A.items[kind as ItemKind],
          ...rights,
        }));
        assert.deepEqual(
          orgItems
            .map((c) => ({ id: c.id, edit: c.edit, viewPassword: c.viewPassword }))
            .sort((x, y) => x.id.localeCompare(y.id)),
          wantItems.sort((x, y) => x.id.localeCompare(y.id)),
          'org items with edit/viewPassword',
        );
        assert.ok(
          orgItems.every((c) => c.organizationId === A.id),
          'no item of another organization',
        );
        assert.deepEqual(sync.policies, [], 'no policies');
        const mine = ok(
          await call<{ data: { id: string }[] }>(http(), A.members[role].token, 'GET', '/api/collections'),
          'my collections',
        );
        assert.deepEqual(
          mine.data.map((c) => c.id).sort(),
          want.collections.map((c) => collectionId[c]).sort(),
          'GET /api/collections',
        );
      });
    }

    test('a read-only member decrypts the item but is told it cannot edit it; hidePasswords is passed on', async () => {
      const ro = ok(
        await call<EncryptedCipher & { edit: boolean; viewPassword: boolean }>(
          http(),
          A.members.userRO.token,
          'GET',
          `/api/ciphers/${A.items.c1}`,
        ),
        'get',
      );
      assert.equal(ro.edit, false);
      assert.equal(decryptCipher(A.orgKey, ro).name, 'a-in-c1');
      const hidden = ok(
        await call<{ viewPassword: boolean; edit: boolean }>(
          http(),
          A.members.userHide.token,
          'GET',
          `/api/ciphers/${A.items.c1}`,
        ),
        'get',
      );
      assert.equal(hidden.viewPassword, false);
    });
  });

  describe('within one organization, each route answers only the roles that may use it', () => {
    for (const route of ROUTES) {
      test(`${route.name}: allowed to ${route.allowed.join(', ')}; 404 and no change for everyone else`, async () => {
        const problems: (string | null)[] = [];
        for (const role of ROLES) {
          const allowed = route.allowed.includes(role);
          if (allowed && !route.read) continue;
          const actor = A.members[role];
          problems.push(await outcome(role, actor, route.build(A, A, actor), allowed ? 200 : 404));
        }
        assertNoProblems(problems);
      });
    }

    for (const name of Object.keys(ITEM_ROUTES) as ItemRouteName[]) {
      test(`item route "${name}" on org items: only what the member's collections allow`, async () => {
        const problems: (string | null)[] = [];
        for (const role of ROLES) {
          for (const kind of ITEM_KINDS) {
            const status = expectedItemStatus(role, kind, name);
            if (status === null) continue;
            problems.push(
              await outcome(`${role} on ${kind} item`, A.members[role], ITEM_ROUTES[name](A, A.items[kind]), status),
            );
          }
        }
        assertNoProblems(problems);
      });
    }

    test('creating an org item needs a collection the member can write to', async () => {
      const problems: (string | null)[] = [];
      const body = { cipher: orgItem(A, 'new'), collectionIds: [A.c1] };
      const statusFor: Partial<Record<Role, number>> = {
        userRO: 400,
        customUsers: 400,
        customColl: 400,
        grouped: 400,
        invited: 404,
        accepted: 404,
        revoked: 404,
      };
      for (const [role, status] of Object.entries(statusFor) as [Role, number][]) {
        problems.push(
          await outcome(role, A.members[role], { method: 'POST', path: '/api/ciphers/create', json: body }, status),
        );
        problems.push(
          await outcome(role, A.members[role], { method: 'POST', path: '/api/ciphers', json: body.cipher }, status),
        );
      }
      const into = (collectionIds: string[]): Req => ({
        method: 'POST',
        path: '/api/ciphers/create',
        json: { cipher: orgItem(A, 'x'), collectionIds },
      });
      problems.push(await outcome('userEdit into C2', A.members.userEdit, into([A.c2]), 400));
      problems.push(await outcome('userEdit into nothing', A.members.userEdit, into([]), 400));
      problems.push(await outcome('userEdit into B.C1', A.members.userEdit, into([B.c1]), 400));
      assertNoProblems(problems);
    });

    test("changing an item's collections needs Manage on it: Edit-only members are refused and nothing moves", async () => {
      // VaultService.setCollections / CipherWriteRepository.replaceCollections: "the user must manage the item".
      const problems: (string | null)[] = [];
      const cases: [Role, ItemKind][] = [
        ['userHide', 'c1'],
        ['grouped', 'c2'],
      ];
      for (const [role, kind] of cases) {
        for (const route of ['collections', 'collections_v2'] as const) {
          // Non-empty, so the member keeps seeing the item (an empty list hits the 500 tested below).
          const req: Req = {
            method: 'PUT',
            path: `/api/ciphers/${A.items[kind]}/${route}`,
            json: { collectionIds: [A.c1, A.c2] },
          };
          problems.push(await outcome(`${role} (edit, no manage) on ${kind}`, A.members[role], req, 404));
        }
      }
      assertNoProblems(problems);
    });

    test("taking an item out of the member's last collection answers without a 500 (collections_v2: unavailable)", async () => {
      const problems: string[] = [];
      for (const route of ['collections', 'collections_v2'] as const) {
        const id = await createOrgItem(http(), A, A.members.owner.token, `leaving-c1-${route}`, [A.c1]);
        const res = await call<{ unavailable?: boolean }>(
          http(),
          A.members.userEdit.token,
          'PUT',
          `/api/ciphers/${id}/${route}`,
          { collectionIds: [] },
        );
        if (res.status >= 500)
          problems.push(
            `PUT /api/ciphers/{id}/${route} {collectionIds: []} by a C1 manager answered ${String(res.status)} ${res.text}`,
          );
        else if (route === 'collections_v2' && res.status === 200 && res.body.unavailable !== true)
          problems.push(
            `collections_v2 answered 200 without unavailable:true although the member can no longer see the item`,
          );
      }
      assert.deepEqual(problems, [], problems.join('\n'));
    });

    test("an item's permissions.delete/restore match what the server lets the member do", async () => {
      const problems: string[] = [];
      for (const role of ['userEdit', 'userHide', 'userRO'] as const) {
        const id = await createOrgItem(http(), A, A.members.owner.token, `deletable-by-${role}`, [A.c1]);
        const shown = ok(
          await call<{ permissions: { delete: boolean; restore: boolean } }>(
            http(),
            A.members[role].token,
            'GET',
            `/api/ciphers/${id}`,
          ),
          'get',
        );
        const deleted = await call(http(), A.members[role].token, 'PUT', `/api/ciphers/${id}/delete`);
        if (shown.permissions.delete !== (deleted.status === 200)) {
          problems.push(
            `${role}: GET /api/ciphers/{id} says permissions.delete=${String(shown.permissions.delete)} but PUT /api/ciphers/{id}/delete answered ${String(deleted.status)}`,
          );
        }
      }
      assert.deepEqual(problems, [], problems.join('\n'));
    });

    test('bulk item operations skip what the caller may not change', async () => {
      const problems: (string | null)[] = [];
      const ids = [...Object.values(A.items), ...Object.values(B.items)];
      const bulk: Req[] = [
        { method: 'PUT', path: '/api/ciphers/delete', json: { ids } },
        { method: 'PUT', path: '/api/ciphers/restore', json: { ids } },
        { method: 'DELETE', path: '/api/ciphers', json: { ids } },
      ];
      for (const role of ['userRO', 'customUsers', 'customColl', 'invited', 'accepted', 'revoked'] as const) {
        for (const req of bulk) problems.push(await outcome(role, A.members[role], req, 200));
      }
      assertNoProblems(problems);
    });

    test('an Admin cannot make an Owner, nor demote, revoke or remove one', async () => {
      const admin = A.members.admin;
      const owner = A.members.owner.memberId;
      const attempts: Req[] = [
        {
          method: 'POST',
          path: `${o(A)}/users/invite`,
          json: { emails: ['would-be-owner@example.com'], type: MemberType.Owner, collections: [], groups: [] },
        },
        { method: 'PUT', path: `${o(A)}/users/${A.members.userRO.memberId}`, json: { type: MemberType.Owner } },
        { method: 'PUT', path: `${o(A)}/users/${admin.memberId}`, json: { type: MemberType.Owner } },
        { method: 'PUT', path: `${o(A)}/users/${owner}`, json: { type: MemberType.Admin } },
        { method: 'PUT', path: `${o(A)}/users/${owner}/revoke` },
        { method: 'PUT', path: `${o(A)}/users/revoke`, json: { ids: [owner] } },
        { method: 'DELETE', path: `${o(A)}/users/${owner}` },
        { method: 'DELETE', path: `${o(A)}/users`, json: { ids: [owner, A.members.userRO.memberId] } },
        { method: 'POST', path: `/api/ciphers/purge?organizationId=${A.id}`, json: mph(admin) },
      ];
      const problems: (string | null)[] = [];
      for (const req of attempts) problems.push(await outcome('admin', admin, req, 404));
      assertNoProblems(problems);
    });

    test('Custom manageUsers lists members and invites Users, but cannot grant or touch higher roles', async () => {
      const actor = A.members.customUsers;
      const list = ok(
        await call<{ data: { id: string }[] }>(http(), actor.token, 'GET', `${o(A)}/users`),
        'list members',
      );
      assert.ok(list.data.some((m) => m.id === A.members.owner.memberId));
      const invited = ok(
        await call<{ data: { id: string }[] }>(http(), actor.token, 'POST', `${o(A)}/users/invite`, {
          emails: ['invited-by-custom@example.com'],
          type: MemberType.User,
          collections: [],
          groups: [],
        }),
        'invite a User',
      );
      assert.equal(invited.data.length, 1);

      const allFlags = {
        manageUsers: true,
        managePolicies: true,
        manageGroups: true,
        editAnyCollection: true,
        deleteAnyCollection: true,
        createNewCollections: true,
        accessImportExport: true,
      };
      const inviteAs = (type: number): Req => ({
        method: 'POST',
        path: `${o(A)}/users/invite`,
        json: {
          emails: [`custom-invites-${String(type)}@example.com`],
          type,
          permissions: allFlags,
          collections: [],
          groups: [],
        },
      });
      const attempts: [string, Req][] = [
        ['invite an Owner', inviteAs(MemberType.Owner)],
        ['invite an Admin', inviteAs(MemberType.Admin)],
        ['invite a Custom member', inviteAs(MemberType.Custom)],
        [
          'promote a User to Admin',
          { method: 'PUT', path: `${o(A)}/users/${A.members.userRO.memberId}`, json: { type: MemberType.Admin } },
        ],
        [
          'make a User Custom with every flag',
          {
            method: 'PUT',
            path: `${o(A)}/users/${A.members.userRO.memberId}`,
            json: { type: MemberType.Custom, permissions: allFlags },
          },
        ],
        [
          'raise its own flags',
          {
            method: 'PUT',
            path: `${o(A)}/users/${actor.memberId}`,
            json: { type: MemberType.Custom, permissions: allFlags },
          },
        ],
        ['demote the Admin', { method: 'PUT', path: `${o(A)}/users/${A.members.admin.memberId}`, json: { type: 2 } }],
        ['revoke the Admin', { method: 'PUT', path: `${o(A)}/users/${A.members.admin.memberId}/revoke` }],
        ['remove the Owner', { method: 'DELETE', path: `${o(A)}/users/${A.members.owner.memberId}` }],
        [
          'revoke the Owner',
          { method: 'PUT', path: `${o(A)}/users/revoke`, json: { ids: [A.members.owner.memberId] } },
        ],
        [
          'create a collection',
          {
            method: 'POST',
            path: `${o(A)}/collections`,
            json: { name: encryptType2(A.orgKey, 'x'), users: [], groups: [] },
          },
        ],
        [
          'rename a collection',
          { method: 'PUT', path: `${o(A)}/collections/${A.c1}`, json: { name: encryptType2(A.orgKey, 'x') } },
        ],
        ['write a policy', { method: 'PUT', path: `${o(A)}/policies/2`, json: { enabled: true } }],
        ['create a group', { method: 'POST', path: `${o(A)}/groups`, json: { name: 'g' } }],
        ['rename a group', { method: 'PUT', path: `${o(A)}/groups/${A.groupId}`, json: { name: 'g' } }],
      ];
      const problems: (string | null)[] = [];
      for (const [what, req] of attempts) problems.push(await outcome(what, actor, req, 404));
      assertNoProblems(problems);
    });

    test('Custom editAnyCollection edits a collection it is not assigned to, but cannot delete it or manage members', async () => {
      const actor = A.members.customColl;
      const renamed = ok(
        await call<{ id: string; name: string }>(http(), actor.token, 'PUT', `${o(A)}/collections/${A.c2}`, {
          name: encryptType2(A.orgKey, 'a C2 renamed'),
        }),
        'rename C2',
      );
      assert.equal(renamed.id, A.c2);
      const access = await db.rows<{ n: number }>(
        'SELECT count(*)::int AS n FROM collection_group WHERE collection_id = $1',
        [A.c2],
      );
      assert.equal(access[0]?.n, 1, 'a rename without users/groups keeps the access');
      const problems: (string | null)[] = [];
      problems.push(await outcome('delete C2', actor, { method: 'DELETE', path: `${o(A)}/collections/${A.c2}` }, 404));
      problems.push(
        await outcome(
          'invite',
          actor,
          { method: 'POST', path: `${o(A)}/users/invite`, json: { emails: ['x@example.com'], type: 2 } },
          404,
        ),
      );
      problems.push(
        await outcome(
          'edit a member',
          actor,
          { method: 'PUT', path: `${o(A)}/users/${A.members.userRO.memberId}`, json: { type: 2 } },
          404,
        ),
      );
      assertNoProblems(problems);
    });

    test('confirming with a malformed key is 400 and confirms nobody', async () => {
      const owner = A.members.owner;
      const target = A.members.accepted.memberId;
      const keys: unknown[] = [
        'not an enc string',
        '',
        encryptType2(A.orgKey, 'symmetric, not RSA'),
        '4.',
        '4.!!!not-base64!!!',
        '2.AAAAAAAAAAAAAAAAAAAAAA==|AAAA|AAAA',
        null,
        42,
      ];
      const problems: (string | null)[] = [];
      for (const key of keys) {
        problems.push(
          await outcome(
            `key ${JSON.stringify(key)}`,
            owner,
            { method: 'POST', path: `${o(A)}/users/${target}/confirm`, json: { key } },
            400,
          ),
        );
        problems.push(
          await outcome(
            `bulk key ${JSON.stringify(key)}`,
            owner,
            { method: 'POST', path: `${o(A)}/users/confirm`, json: { keys: [{ id: target, key }] } },
            400,
          ),
        );
      }
      problems.push(
        await outcome(
          'confirm an invitee who has not accepted',
          owner,
          {
            method: 'POST',
            path: `${o(A)}/users/${A.members.invited.memberId}/confirm`,
            json: { key: wrapOrgKeyForMember(A.orgKey, A.members.invited.account.publicKey) },
          },
          400,
        ),
      );
      assertNoProblems(problems);
      assert.equal(await db.memberStatus(target), MemberStatus.Accepted);
    });
  });

  describe('a member of organization A, whatever the role, reaches nothing of organization B', () => {
    for (const route of ROUTES) {
      test(`${route.name} on B: 404 for every member of A, nothing changed`, async () => {
        const problems: (string | null)[] = [];
        for (const role of ROLES) {
          const actor = A.members[role];
          problems.push(await outcome(`A.${role}`, actor, route.build(B, B, actor), 404));
        }
        assertNoProblems(problems);
      });
    }

    for (const name of Object.keys(ITEM_ROUTES) as ItemRouteName[]) {
      test(`item route "${name}" on B's items: 404 for every member of A`, async () => {
        const problems: (string | null)[] = [];
        for (const role of ROLES) {
          for (const kind of ITEM_KINDS) {
            problems.push(
              await outcome(`A.${role} on B.${kind}`, A.members[role], ITEM_ROUTES[name](B, B.items[kind]), 404),
            );
          }
        }
        assertNoProblems(problems);
      });
    }

    for (const route of ROUTES.filter((r) => !r.orgOnly)) {
      test(`${route.name} with B's ids under A's own path: like an id that does not exist`, async () => {
        const problems: (string | null)[] = [];
        const nowhere = withRandomIds(B);
        const normalize = (text: string): string =>
          text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>');
        for (const role of ['owner', 'admin'] as const) {
          const actor = A.members[role];
          const expected = route.foreignStatus ?? 404;
          problems.push(await outcome(`A.${role}`, actor, route.build(A, B, actor), expected));
          const foreign = await db.unchanged(() => send(actor, route.build(A, B, actor)));
          const missing = await db.unchanged(() => send(actor, route.build(A, nowhere, actor)));
          if (foreign.status !== missing.status || normalize(foreign.text) !== normalize(missing.text)) {
            problems.push(
              `A.${role}: B's ids answer ${String(foreign.status)} ${foreign.text} but unknown ids answer ${String(missing.status)} ${missing.text}`,
            );
          }
        }
        assertNoProblems(problems);
      });
    }

    test('invitation tokens work only for their organization, member and email, and only once', async () => {
      const stranger = B.members.invited;
      const problems: (string | null)[] = [];
      // B's invitee presents B's token under A's path, and under A's member id.
      problems.push(
        await outcome(
          "B's token under A's path",
          stranger,
          {
            method: 'POST',
            path: `${o(A)}/users/${stranger.memberId}/accept`,
            json: { token: stranger.inviteToken },
          },
          400,
        ),
      );
      problems.push(
        await outcome(
          "B's token for A's invitee",
          stranger,
          {
            method: 'POST',
            path: `${o(A)}/users/${A.members.invited.memberId}/accept`,
            json: { token: stranger.inviteToken },
          },
          400,
        ),
      );
      // Someone else (even B's owner) presents the invitee's token.
      problems.push(
        await outcome(
          "another user with B's invitee's token",
          B.members.owner,
          {
            method: 'POST',
            path: `${o(B)}/users/${stranger.memberId}/accept`,
            json: { token: stranger.inviteToken },
          },
          400,
        ),
      );
      problems.push(
        await outcome(
          "A's owner with B's invitee's token",
          A.members.owner,
          {
            method: 'POST',
            path: `${o(B)}/users/${stranger.memberId}/accept`,
            json: { token: stranger.inviteToken },
          },
          400,
        ),
      );
      // An accepted invitation cannot be used again.
      problems.push(
        await outcome(
          'a used token',
          B.members.accepted,
          {
            method: 'POST',
            path: `${o(B)}/users/${B.members.accepted.memberId}/accept`,
            json: { token: B.members.accepted.inviteToken },
          },
          400,
        ),
      );
      problems.push(
        await outcome(
          'a forged token',
          stranger,
          {
            method: 'POST',
            path: `${o(B)}/users/${stranger.memberId}/accept`,
            json: { token: 'eyJhbGciOiJub25lIn0.e30.' },
          },
          400,
        ),
      );
      assertNoProblems(problems);
      assert.equal(await db.memberStatus(stranger.memberId), MemberStatus.Invited);
    });

    test('every route exists and wants a login: 401 without a token, nothing changed', async () => {
      // A mistyped path in the tables above would answer 404 and pass for the wrong reason; a 401 proves the route.
      const requests: [string, Req][] = [
        ...ROUTES.map((route): [string, Req] => [route.name, route.build(B, B, B.members.owner)]),
        ...(Object.keys(ITEM_ROUTES) as ItemRouteName[]).map((name): [string, Req] => [
          name,
          ITEM_ROUTES[name](B, B.items.c1),
        ]),
      ];
      for (const [name, req] of requests) {
        const res = await db.unchanged(() => call(http(), undefined, req.method, req.path, req.json));
        assertApiError(res, 401, `${name} ${req.method} ${req.path}`);
      }
    });

    test("B's owner needs the master password for B's destructive routes", async () => {
      const owner = B.members.owner;
      const wrong = { masterPasswordHash: A.members.owner.account.masterPasswordHash };
      const problems: (string | null)[] = [];
      for (const req of [
        { method: 'DELETE', path: o(B), json: wrong },
        { method: 'POST', path: `${o(B)}/delete`, json: wrong },
        { method: 'POST', path: `${o(B)}/api-key`, json: wrong },
        { method: 'POST', path: `${o(B)}/rotate-api-key`, json: wrong },
        { method: 'POST', path: `/api/ciphers/purge?organizationId=${B.id}`, json: wrong },
        { method: 'DELETE', path: o(B), json: {} },
      ] as const) {
        problems.push(await outcome('B.owner, wrong password', owner, req, 400));
      }
      assertNoProblems(problems);
    });
  });

  describe('sharing a personal item', () => {
    test('cannot go into an organization the user does not belong to (or is not confirmed in)', async () => {
      const problems: (string | null)[] = [];
      const share = (id: string, t: Tenant, collectionIds: string[]): Req => ({
        method: 'PUT',
        path: `/api/ciphers/${id}/share`,
        json: { cipher: orgItem(t, 'shared'), collectionIds },
      });
      for (const role of ['owner', 'userEdit', 'invited', 'accepted', 'revoked'] as const) {
        const actor = A.members[role];
        const personal = await createPersonalItem(http(), actor, `${role}-personal`);
        problems.push(await outcome(`A.${role} into B`, actor, share(personal, B, [B.c1]), 404));
        problems.push(
          await outcome(
            `A.${role} bulk into B`,
            actor,
            {
              method: 'PUT',
              path: '/api/ciphers/share',
              json: { ciphers: [{ ...orgItem(B, 'shared'), id: personal }], collectionIds: [B.c1] },
            },
            404,
          ),
        );
        if (role === 'invited' || role === 'accepted' || role === 'revoked') {
          problems.push(await outcome(`A.${role} into A, not confirmed`, actor, share(personal, A, [A.c1]), 404));
        }
      }
      assertNoProblems(problems);
    });

    test("cannot go into another organization's collection, or a collection the user cannot write to", async () => {
      const problems: (string | null)[] = [];
      const cases: [Role, string[]][] = [
        ['userEdit', [B.c1]],
        ['userEdit', [A.c2]],
        ['userEdit', []],
        ['userRO', [A.c1]],
        ['grouped', [A.c1]],
        ['customUsers', [A.c1]],
      ];
      for (const [role, collectionIds] of cases) {
        const actor = A.members[role];
        const personal = await createPersonalItem(http(), actor, `${role}-personal-2`);
        problems.push(
          await outcome(
            `A.${role} into ${collectionIds.join(',') || 'no collection'}`,
            actor,
            {
              method: 'PUT',
              path: `/api/ciphers/${personal}/share`,
              json: { cipher: orgItem(A, 'shared'), collectionIds },
            },
            400,
          ),
        );
      }
      assertNoProblems(problems);
    });

    test("cannot take someone else's personal item into the organization", async () => {
      const victim = await createPersonalItem(http(), B.members.userEdit, 'victim');
      const res = await db.unchanged(() =>
        call(http(), A.members.owner.token, 'PUT', `/api/ciphers/${victim}/share`, {
          cipher: orgItem(A, 'stolen'),
          collectionIds: [A.c1],
        }),
      );
      assertApiError(res, 404);
    });

    test('bulk share is all or nothing: one refused item leaves every item where it was', async () => {
      const actor = A.members.userEdit;
      const fine = await createPersonalItem(http(), actor, 'bulk-fine');
      const notMine = await createPersonalItem(http(), B.members.userEdit, 'bulk-not-mine');
      const res = await db.unchanged(
        () =>
          call(http(), actor.token, 'PUT', '/api/ciphers/share', {
            ciphers: [
              { ...orgItem(A, 'bulk-fine'), id: fine },
              { ...orgItem(A, 'bulk-not-mine'), id: notMine },
            ],
            collectionIds: [A.c1],
          }),
        'PUT /api/ciphers/share with one shareable and one foreign item',
      );
      assert.ok(res.status >= 400 && res.status < 500, res.text);
    });
  });

  describe('what the roles may do, they can do', () => {
    test('a User with manage on C1 renames it and edits its item; the hidePasswords User edits the item too', async () => {
      const renamed = await call(http(), A.members.userEdit.token, 'PUT', `${o(A)}/collections/${A.c1}`, {
        name: encryptType2(A.orgKey, 'a C1 renamed'),
      });
      assert.equal(renamed.status, 200, renamed.text);
      for (const role of ['userEdit', 'userHide'] as const) {
        const current = ok(
          await call<{ revisionDate: string }>(http(), A.members[role].token, 'GET', `/api/ciphers/${A.items.c1}`),
          'get',
        );
        const edited = await call(http(), A.members[role].token, 'PUT', `/api/ciphers/${A.items.c1}`, {
          ...orgItem(A, `edited by ${role}`),
          lastKnownRevisionDate: current.revisionDate,
        });
        assert.equal(edited.status, 200, `${role}: ${edited.text}`);
      }
      const grouped = await call(http(), A.members.grouped.token, 'PUT', `/api/ciphers/${A.items.c2}`, {
        ...orgItem(A, 'edited through the group'),
      });
      assert.equal(grouped.status, 200, grouped.text);
    });
  });

  describe("references to another organization's objects are ignored, never linked", () => {
    async function bUnchanged(what: string, actor: Member, req: Req, status = 200): Promise<void> {
      const before = await db.orgFingerprint(B.id);
      const res = await send(actor, req);
      assert.equal(res.status, status, `${what}: ${res.text}`);
      assert.equal(await db.orgFingerprint(B.id), before, `${what}: organization B's rows changed`);
    }

    test("A's owner naming B's collections, groups and members in A's requests", async () => {
      const owner = A.members.owner;
      await bUnchanged('invite with B collection and group', owner, {
        method: 'POST',
        path: `${o(A)}/users/invite`,
        json: {
          emails: ['cross-ref@example.com'],
          type: MemberType.User,
          collections: [{ id: B.c1, readOnly: false, hidePasswords: false, manage: true }],
          groups: [B.groupId],
        },
      });
      await bUnchanged('update member with B collection and group', owner, {
        method: 'PUT',
        path: `${o(A)}/users/${A.members.customColl.memberId}`,
        json: {
          type: MemberType.Custom,
          permissions: { editAnyCollection: true },
          collections: [{ id: B.c1, readOnly: false, hidePasswords: false, manage: true }],
          groups: [B.groupId],
        },
      });
      await bUnchanged('collection access for B members and groups', owner, {
        method: 'PUT',
        path: `${o(A)}/collections/${A.defaultCollection}`,
        json: {
          name: encryptType2(A.orgKey, 'Default'),
          users: [
            { id: A.members.owner.memberId, readOnly: false, hidePasswords: false, manage: true },
            { id: B.members.userRO.memberId, readOnly: false, hidePasswords: false, manage: true },
          ],
          groups: [{ id: B.groupId, readOnly: false, hidePasswords: false, manage: true }],
        },
      });
      await bUnchanged('group with B collections and members', owner, {
        method: 'POST',
        path: `${o(A)}/groups`,
        json: {
          name: 'cross',
          collections: [{ id: B.c1, readOnly: false, hidePasswords: false, manage: true }],
          users: [B.members.userEdit.memberId],
        },
      });
      await bUnchanged('group members from B', owner, {
        method: 'PUT',
        path: `${o(A)}/groups/${A.groupId}/users`,
        json: [A.members.grouped.memberId, B.members.userEdit.memberId],
      });
      await bUnchanged('org item into B collection', owner, {
        method: 'POST',
        path: '/api/ciphers/create',
        json: { cipher: orgItem(A, 'admin item'), collectionIds: [B.c1] },
      });
      await bUnchanged("A item's collections set to B's", owner, {
        method: 'PUT',
        path: `/api/ciphers/${A.items.unassigned}/collections`,
        json: { collectionIds: [B.c1] },
      });
      await bUnchanged('import naming B collection', owner, {
        method: 'POST',
        path: `/api/ciphers/import-organization?organizationId=${A.id}`,
        json: {
          ciphers: [orgItem(A, 'imported')],
          collections: [{ id: B.c1, name: encryptType2(A.orgKey, 'B C1?') }],
          collectionRelationships: [{ key: 0, value: 0 }],
        },
      });
      const links = await db.rows<{ n: number }>(
        `SELECT count(*)::int AS n FROM collection_cipher cc JOIN cipher c ON c.id = cc.cipher_id
         JOIN collection col ON col.id = cc.collection_id WHERE c.organization_id IS DISTINCT FROM col.organization_id`,
      );
      assert.equal(links[0]?.n, 0, 'no item is linked to a collection of another organization');
      const groupLinks = await db.rows<{ n: number }>(
        `SELECT count(*)::int AS n FROM group_user gu JOIN org_group g ON g.id = gu.group_id
         JOIN organization_user m ON m.id = gu.organization_user_id WHERE g.organization_id <> m.organization_id`,
      );
      assert.equal(groupLinks[0]?.n, 0, 'no group holds a member of another organization');
    });

    test('a new org member of B (invited with A ids) reaches nothing of A', async () => {
      const person = await newPerson(http(), 'b-late@example.com');
      const member = await join(http(), B, B.members.owner.token, person, {
        type: MemberType.User,
        collections: [{ id: A.c1, manage: true }],
        groups: [A.groupId],
      });
      const sync = ok(await call<SyncBody>(http(), member.token, 'GET', '/api/sync'), 'sync');
      assert.deepEqual(
        sync.profile.organizations.map((org) => org.id),
        [B.id],
      );
      assert.deepEqual(sync.collections, []);
      assert.deepEqual(sync.ciphers, []);
      const accepted = await accept(http(), A.id, person, member.memberId, member.inviteToken);
      assert.equal(accepted.status, 400);
    });
  });

  describe('malformed requests never produce a 500 (run last: B may change)', () => {
    test('garbage bodies on every org and item route', async () => {
      const payloads: unknown[] = [
        null,
        [],
        'string',
        42,
        { ids: 'x' },
        { ids: [42] },
        { name: { nested: true } },
        { emails: 'x', type: '0' },
        { keys: {} },
        { type: 99, permissions: 'all' },
        { collectionIds: 'x' },
        { cipher: null },
        { enabled: 'yes', data: 5 },
      ];
      const problems: string[] = [];
      const requests = [
        ...ROUTES.map((route) => route.build(B, B, B.members.owner)),
        ...(Object.keys(ITEM_ROUTES) as ItemRouteName[]).map((name) => ITEM_ROUTES[name](B, B.items.c1)),
      ].filter((req) => req.method !== 'GET');
      for (const req of requests) {
        for (const json of payloads) {
          const res = await call(http(), B.members.owner.token, req.method, req.path, json);
          if (res.status >= 500)
            problems.push(`${req.method} ${req.path} ${JSON.stringify(json)} -> ${String(res.status)}`);
        }
      }
      assert.deepEqual(problems, [], problems.join('\n'));
    });

    test('malformed ids and numbers in paths and queries are 4xx', async () => {
      const token = B.members.owner.token;
      const paths = [
        '/api/organizations/not-a-uuid',
        `${o(B)}/users/not-a-uuid`,
        `${o(B)}/collections/not-a-uuid`,
        `${o(B)}/groups/not-a-uuid`,
        `${o(B)}/policies/abc`,
        `${o(B)}/policies/40000`,
        `${o(B)}/policies/-40000`,
        `${o(B)}/policies/99999999999`,
        '/api/ciphers/organization-details',
        '/api/ciphers/organization-details?organizationId=',
        '/api/ciphers/organization-details?organizationId=not-a-uuid',
        `/api/ciphers/organization-details?organizationId=${B.id}&organizationId=${A.id}`,
        '/api/ciphers/not-a-uuid',
      ];
      const problems: string[] = [];
      for (const path of paths) {
        const res = await db.unchanged(() => call(http(), token, 'GET', path), path);
        if (res.status < 400 || res.status >= 500)
          problems.push(`GET ${path} -> ${String(res.status)} ${res.text.slice(0, 120)}`);
      }
      for (const type of ['40000', '-40000', '99999999999']) {
        const res = await db.unchanged(() => call(http(), token, 'PUT', `${o(B)}/policies/${type}`, { enabled: true }));
        if (res.status !== 400) problems.push(`PUT policies/${type} -> ${String(res.status)}`);
      }
      assert.deepEqual(problems, [], problems.join('\n'));
    });
  });
});
