import assert from 'node:assert/strict';
import { passwordLogin, registerAccount, type HttpClient, type HttpResponse } from '@keyhaven/testing';
import {
  createOrganizationKeys,
  encryptCipher,
  encryptType2,
  wrapOrgKeyForMember,
  type Account,
  type SymmetricKey,
} from '@keyhaven/vault-crypto';

/**
 * Organizations set up through the API exactly as a client does it (create with client-made keys,
 * invite → accept → confirm with the org key wrapped for the member), plus the database fingerprint
 * the attack suites use to prove a refused request left nothing behind.
 */
export const PASSWORD = 'correct horse battery staple';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export const MemberStatus = { Revoked: -1, Invited: 0, Accepted: 1, Confirmed: 2 } as const;
export const MemberType = { Owner: 0, Admin: 1, User: 2, Custom: 4 } as const;

export interface Person {
  readonly email: string;
  readonly account: Account;
  readonly token: string;
  readonly userId: string;
}

export interface Member extends Person {
  readonly memberId: string;
  /** The token of the invitation link this member got. */
  readonly inviteToken: string;
}

export interface Access {
  readonly id: string;
  readonly readOnly?: boolean;
  readonly hidePasswords?: boolean;
  readonly manage?: boolean;
}

export interface Org {
  readonly id: string;
  readonly orgKey: SymmetricKey;
  readonly owner: Member;
  readonly defaultCollection: string;
}

/** A request, answered with the body parsed when it is JSON. */
export function call<T = unknown>(
  http: HttpClient,
  token: string | undefined,
  method: Method,
  path: string,
  json?: unknown,
): Promise<HttpResponse<T>> {
  return http.request<T>(method, path, { ...(token ? { token } : {}), ...(json === undefined ? {} : { json }) });
}

/** The body of a response that must be a 200; a setup failure names the step. */
export function ok<T>(res: HttpResponse<T>, what: string): T {
  if (res.status !== 200) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res.body;
}

export function assertApiError(res: HttpResponse, status: number, context = ''): void {
  assert.equal(res.status, status, `${context} ${res.text}`);
  const body = res.body as { object?: string; message?: string };
  assert.equal(body.object, 'error', `${context} ${res.text}`);
  assert.equal(typeof body.message, 'string');
  assert.doesNotMatch(res.text, /\n\s+at |node_modules/, 'no stack trace');
}

export async function newPerson(http: HttpClient, email: string): Promise<Person> {
  const account = await registerAccount(http, email, PASSWORD);
  const session = await passwordLogin(http, account);
  const profile = ok(await call<{ id: string }>(http, session.accessToken, 'GET', '/api/accounts/profile'), 'profile');
  return { email, account, token: session.accessToken, userId: profile.id };
}

export async function newPeople(http: HttpClient, emails: string[]): Promise<Person[]> {
  return Promise.all(emails.map((e) => newPerson(http, e)));
}

export async function createOrg(http: HttpClient, owner: Person, name: string): Promise<Org> {
  const keys = await createOrganizationKeys(owner.account.publicKey);
  const org = ok(
    await call<{ id: string }>(http, owner.token, 'POST', '/api/organizations', {
      name,
      billingEmail: owner.email,
      key: keys.key,
      keys: { publicKey: keys.publicKey, encryptedPrivateKey: keys.encryptedPrivateKey },
      collectionName: encryptType2(keys.orgKey, 'Default'),
    }),
    'create organization',
  );
  const collections = ok(
    await call<{ data: { id: string }[] }>(http, owner.token, 'GET', `/api/organizations/${org.id}/collections`),
    'list collections',
  );
  const members = ok(
    await call<{ data: { id: string; userId: string }[] }>(
      http,
      owner.token,
      'GET',
      `/api/organizations/${org.id}/users`,
    ),
    'list members',
  );
  const ownerMember = members.data.find((m) => m.userId === owner.userId);
  const defaultCollection = collections.data[0]?.id;
  if (!ownerMember || !defaultCollection) throw new Error('organization created without owner or default collection');
  return {
    id: org.id,
    orgKey: keys.orgKey,
    owner: { ...owner, memberId: ownerMember.id, inviteToken: '' },
    defaultCollection,
  };
}

export async function createCollection(
  http: HttpClient,
  org: Org,
  token: string,
  name: string,
  users: Access[] = [],
  groups: Access[] = [],
): Promise<string> {
  const access = (a: Access): Required<Access> => ({
    id: a.id,
    readOnly: a.readOnly ?? false,
    hidePasswords: a.hidePasswords ?? false,
    manage: a.manage ?? false,
  });
  return ok(
    await call<{ id: string }>(http, token, 'POST', `/api/organizations/${org.id}/collections`, {
      name: encryptType2(org.orgKey, name),
      users: users.map(access),
      groups: groups.map(access),
    }),
    `create collection ${name}`,
  ).id;
}

export interface InviteOptions {
  readonly type: number;
  readonly collections?: Access[];
  readonly groups?: string[];
  readonly permissions?: Record<string, boolean>;
}

/** Invites one email; answers the member id and the token of the invitation link. */
export async function invite(
  http: HttpClient,
  org: Org,
  adminToken: string,
  email: string,
  options: InviteOptions,
): Promise<{ memberId: string; inviteToken: string }> {
  const res = ok(
    await call<{ data: { id: string; email: string; inviteUrl: string | null }[] }>(
      http,
      adminToken,
      'POST',
      `/api/organizations/${org.id}/users/invite`,
      {
        emails: [email],
        type: options.type,
        collections: (options.collections ?? []).map((a) => ({
          id: a.id,
          readOnly: a.readOnly ?? false,
          hidePasswords: a.hidePasswords ?? false,
          manage: a.manage ?? false,
        })),
        groups: options.groups ?? [],
        ...(options.permissions ? { permissions: options.permissions } : {}),
      },
    ),
    `invite ${email}`,
  );
  const entry = res.data[0];
  if (!entry?.inviteUrl) throw new Error(`invite ${email}: no invitation link`);
  return { memberId: entry.id, inviteToken: inviteTokenOf(entry.inviteUrl) };
}

/** The link is `${DOMAIN}/#/accept-organization?…&token=…`: the query sits inside the fragment. */
export function inviteTokenOf(inviteUrl: string): string {
  const token = new URLSearchParams(inviteUrl.slice(inviteUrl.indexOf('?') + 1)).get('token');
  if (!token) throw new Error(`no token in ${inviteUrl}`);
  return token;
}

export function accept(
  http: HttpClient,
  orgId: string,
  person: Person,
  memberId: string,
  inviteToken: string,
): Promise<HttpResponse> {
  return call(http, person.token, 'POST', `/api/organizations/${orgId}/users/${memberId}/accept`, {
    token: inviteToken,
  });
}

/** What an admin's client does: fetch the member's public key, wrap the org key for it, post it. */
export async function confirm(
  http: HttpClient,
  org: Org,
  adminToken: string,
  memberId: string,
  userId: string,
): Promise<HttpResponse> {
  const key = ok(
    await call<{ publicKey: string }>(http, adminToken, 'GET', `/api/users/${userId}/public-key`),
    'public key',
  );
  return call(http, adminToken, 'POST', `/api/organizations/${org.id}/users/${memberId}/confirm`, {
    key: wrapOrgKeyForMember(org.orgKey, key.publicKey),
  });
}

export type Stage = 'invited' | 'accepted' | 'confirmed' | 'revoked';

/** Brings a person into an organization as far as `stage`, through the API. */
export async function join(
  http: HttpClient,
  org: Org,
  adminToken: string,
  person: Person,
  options: InviteOptions,
  stage: Stage = 'confirmed',
): Promise<Member> {
  const { memberId, inviteToken } = await invite(http, org, adminToken, person.email, options);
  const member: Member = { ...person, memberId, inviteToken };
  if (stage === 'invited') return member;
  ok(await accept(http, org.id, person, memberId, inviteToken), `accept ${person.email}`);
  if (stage === 'accepted') return member;
  ok(await confirm(http, org, adminToken, memberId, person.userId), `confirm ${person.email}`);
  if (stage === 'confirmed') return member;
  ok(
    await call(http, adminToken, 'PUT', `/api/organizations/${org.id}/users/${memberId}/revoke`),
    `revoke ${person.email}`,
  );
  return member;
}

/** An org item created the way the web vault does (`POST /api/ciphers/create`). */
export async function createOrgItem(
  http: HttpClient,
  org: Org,
  token: string,
  name: string,
  collectionIds: string[],
): Promise<string> {
  return ok(
    await call<{ id: string }>(http, token, 'POST', '/api/ciphers/create', {
      cipher: {
        ...encryptCipher(org.orgKey, {
          type: 1,
          name,
          login: { username: `${name}-user`, password: `${name}-password` },
        }),
        organizationId: org.id,
      },
      collectionIds,
    }),
    `create org item ${name}`,
  ).id;
}

export async function createPersonalItem(http: HttpClient, person: Person, name: string): Promise<string> {
  return ok(
    await call<{ id: string }>(
      http,
      person.token,
      'POST',
      '/api/ciphers',
      encryptCipher(person.account.userKey, { type: 2, name, secureNote: { type: 0 } }),
    ),
    `create personal item ${name}`,
  ).id;
}

/** A digest of every row an organization request could touch (failed-login bookkeeping excluded). */
const FINGERPRINT_SQL = `
  SELECT md5(concat_ws('|',
    (SELECT string_agg(concat_ws(',', id, email, master_password_hash, key, security_stamp, api_key, totp_secret,
       kdf, kdf_iterations, revision_date, account_revision_date), ';' ORDER BY id) FROM app_user),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM folder t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM cipher t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM cipher_user_state t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM two_factor_remember t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM organization t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM organization_user t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM collection t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM collection_user t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM org_group t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM group_user t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM collection_group t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM collection_cipher t),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM policy t)
  )) AS digest`;

/** Every row of one organization, and every link row that points at one of its objects. */
const ORG_FINGERPRINT_SQL = `
  WITH m AS (SELECT id FROM organization_user WHERE organization_id = $1),
       c AS (SELECT id FROM collection WHERE organization_id = $1),
       g AS (SELECT id FROM org_group WHERE organization_id = $1),
       ci AS (SELECT id FROM cipher WHERE organization_id = $1)
  SELECT md5(concat_ws('|',
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM organization t WHERE id = $1),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM organization_user t WHERE organization_id = $1),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM collection t WHERE organization_id = $1),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM org_group t WHERE organization_id = $1),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM cipher t WHERE organization_id = $1),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM policy t WHERE organization_id = $1),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM collection_user t
       WHERE collection_id IN (SELECT id FROM c) OR organization_user_id IN (SELECT id FROM m)),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM group_user t
       WHERE group_id IN (SELECT id FROM g) OR organization_user_id IN (SELECT id FROM m)),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM collection_group t
       WHERE collection_id IN (SELECT id FROM c) OR group_id IN (SELECT id FROM g)),
    (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM collection_cipher t
       WHERE collection_id IN (SELECT id FROM c) OR cipher_id IN (SELECT id FROM ci))
  )) AS digest`;

/** Runs one parameterised statement on the suite's database and answers its rows. */
export type Query = (text: string, params: unknown[]) => Promise<unknown[]>;

/**
 * The suite's view of the server's database (see backends.ts for how each backend provides it):
 * fingerprints run around every request.
 */
export class Db {
  constructor(private readonly query: Query) {}

  async rows<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.query(text, params)) as T[];
  }

  async fingerprint(): Promise<string> {
    return (await this.rows<{ digest: string }>(FINGERPRINT_SQL))[0]?.digest ?? '';
  }

  async orgFingerprint(orgId: string): Promise<string> {
    return (await this.rows<{ digest: string }>(ORG_FINGERPRINT_SQL, [orgId]))[0]?.digest ?? '';
  }

  /** Runs a request and asserts the stored state is exactly what it was. */
  async unchanged<T>(request: () => Promise<T>, context = ''): Promise<T> {
    const before = await this.fingerprint();
    const result = await request();
    assert.equal(await this.fingerprint(), before, `the database changed ${context}`);
    return result;
  }

  async memberStatus(memberId: string): Promise<number | null> {
    return (
      (await this.rows<{ status: number }>('SELECT status FROM organization_user WHERE id = $1', [memberId]))[0]
        ?.status ?? null
    );
  }
}
