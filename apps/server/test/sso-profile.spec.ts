import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { type HttpResponse } from '@keyhaven/testing';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import {
  MemberType,
  assertApiError,
  call,
  createOrg,
  join,
  newPeople,
  ok,
  type Member,
  type Method,
  type Org,
  type Person,
} from './org-fixtures';
import { IDP_CLIENT_ID, IDP_CLIENT_SECRET, configureOidc } from './sso-fixtures';

/**
 * The SSO fields of sync's `profile.organizations[]` (ENTERPRISE.md §1.9), which the official clients
 * act on, built from the organization's SSO configuration and the member's IdP link; and the side
 * effects of saving the configuration (§2.3): trusted-device encryption turns on Single Organization,
 * Account recovery with automatic enrolment and Require SSO; Key Connector needs its policies first
 * and cannot be left while a member unlocks with it. No IdP is needed: an OIDC configuration is not
 * contacted when saved.
 */

const AUTHORITY = 'https://idp.invalid';

interface ProfileOrg {
  id: string;
  identifier: string | null;
  useSso: boolean;
  useKeyConnector: boolean;
  ssoEnabled: boolean;
  ssoMemberDecryptionType: number | null;
  ssoBound: boolean;
  keyConnectorEnabled: boolean;
  keyConnectorUrl: string | null;
  userIsClaimedByOrganization: boolean;
}

interface PolicyJson {
  type: number;
  enabled: boolean;
  data: Record<string, unknown> | null;
}

/** The SSO fields the clients read, in one object per organization for a readable deepEqual. */
const ssoFields = (o: ProfileOrg) => ({
  identifier: o.identifier,
  ssoEnabled: o.ssoEnabled,
  ssoMemberDecryptionType: o.ssoMemberDecryptionType,
  ssoBound: o.ssoBound,
  keyConnectorEnabled: o.keyConnectorEnabled,
  keyConnectorUrl: o.keyConnectorUrl,
});

const NO_SSO = {
  identifier: null,
  ssoEnabled: false,
  ssoMemberDecryptionType: null,
  ssoBound: false,
  keyConnectorEnabled: false,
  keyConnectorUrl: null,
};

describeOnBackends('SSO state in the sync profile, and SSO configuration side effects', (backend) => {
  let server: BackedServer;

  const send = <T>(who: Person, method: Method, path: string, json?: unknown): Promise<HttpResponse<T>> =>
    call<T>(server.http, who.token, method, path, json);

  const profileOrg = async (who: Person, org: Org): Promise<ProfileOrg> => {
    const sync = ok(await send<{ profile: { organizations: ProfileOrg[] } }>(who, 'GET', '/api/sync'), 'sync');
    const found = sync.profile.organizations.find((o) => o.id === org.id);
    assert.ok(found, `${who.email} sees ${org.id} in sync`);
    return found;
  };

  const saveSso = (
    owner: Person,
    org: Org,
    options: { identifier: string; memberDecryptionType: number; enabled?: boolean; keyConnectorUrl?: string },
  ) =>
    send<Record<string, unknown>>(owner, 'POST', `/api/organizations/${org.id}/sso`, {
      enabled: options.enabled ?? true,
      identifier: options.identifier,
      data: {
        configType: 1,
        memberDecryptionType: options.memberDecryptionType,
        authority: AUTHORITY,
        clientId: IDP_CLIENT_ID,
        clientSecret: IDP_CLIENT_SECRET,
        ...(options.keyConnectorUrl ? { keyConnectorUrl: options.keyConnectorUrl } : {}),
      },
    });

  const policy = async (owner: Person, org: Org, type: number): Promise<PolicyJson> =>
    ok(await send<PolicyJson>(owner, 'GET', `/api/organizations/${org.id}/policies/${type}`), `policy ${type}`);

  const setPolicy = async (owner: Person, org: Org, type: number, enabled: boolean) =>
    ok(await send(owner, 'PUT', `/api/organizations/${org.id}/policies/${type}`, { enabled, data: null }), 'policy');

  /** How the web vault's member list shows `who` in `org`: the SSO link and how they unlock. */
  const listed = async (owner: Person, org: Org, who: Member) => {
    const list = ok(
      await send<{
        data: { userId: string; ssoBound: boolean; usesKeyConnector: boolean; hasMasterPassword: boolean }[];
      }>(owner, 'GET', `/api/organizations/${org.id}/users`),
      'members list',
    );
    const row = list.data.find((m) => m.userId === who.userId);
    assert.ok(row, `${who.email} is listed`);
    return { ssoBound: row.ssoBound, usesKeyConnector: row.usesKeyConnector, hasMasterPassword: row.hasMasterPassword };
  };

  /** Events stored so far (the outbox and the processed table), sorted. */
  const eventTypes = async (org: Org): Promise<number[]> => {
    const rows = await server.db.rows<{ type: number }>(
      `SELECT (payload->>'type')::int AS type FROM event_outbox WHERE payload->>'organizationId' = $1
       UNION ALL SELECT type FROM event WHERE organization_id::text = $1`,
      [org.id],
    );
    return rows.map((r) => r.type).sort((a, b) => a - b);
  };

  /** An organization with its owner and one confirmed User member, each in no other organization. */
  const orgWithMember = async (prefix: string): Promise<{ org: Org; owner: Member; member: Member }> => {
    const [o, m] = await newPeople(server.http, [`${prefix}-owner@profile.test`, `${prefix}-member@profile.test`]);
    const org = await createOrg(server.http, o as Person, `${prefix} Co`);
    const member = await join(server.http, org, org.owner.token, m as Person, { type: MemberType.User });
    return { org, owner: org.owner, member };
  };

  before(async () => {
    server = await startAllInOne(backend, {
      LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
      KEY_CONNECTOR_ENABLED: 'true',
      KEY_CONNECTOR_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
  });
  after(async () => {
    await server.stop();
  });

  test('no SSO, then OIDC with master password: per organization, per member, the identifier and the link', async () => {
    const { org: plain, owner: plainOwner, member } = await orgWithMember('plain');
    // The same member also belongs to an organization with SSO: each organization keeps its own fields.
    const [o] = await newPeople(server.http, ['mp-owner@profile.test']);
    const mp = await createOrg(server.http, o as Person, 'MP Co');
    const mpMember = await join(server.http, mp, mp.owner.token, member, { type: MemberType.User });

    const before = await profileOrg(member, plain);
    assert.deepEqual(ssoFields(before), NO_SSO);
    assert.equal(before.useSso, true);
    assert.equal(before.useKeyConnector, true, 'the enterprise feature set includes Key Connector');
    assert.equal(before.userIsClaimedByOrganization, false);
    assert.deepEqual(ssoFields(await profileOrg(plainOwner, plain)), NO_SSO);

    const revisionBefore = ok(await send<number>(mpMember, 'GET', '/api/accounts/revision-date'), 'revision');
    await configureOidc(server.http, mp.owner.token, mp.id, { identifier: 'ProfileMp', authority: AUTHORITY });
    const expected = { ...NO_SSO, identifier: 'ProfileMp', ssoEnabled: true, ssoMemberDecryptionType: 0 };
    assert.deepEqual(ssoFields(await profileOrg(mpMember, mp)), expected);
    assert.deepEqual(ssoFields(await profileOrg(member, plain)), NO_SSO, 'the other organization is untouched');
    const revisionAfter = ok(await send<number>(mpMember, 'GET', '/api/accounts/revision-date'), 'revision');
    assert.ok(revisionAfter > revisionBefore, 'bw sync sees the profile changed');

    // The member's IdP link (what an SSO login stores) makes them SSO-bound there, and only them.
    await server.db.rows(
      'INSERT INTO sso_user (id, user_id, organization_id, external_id, creation_date) VALUES ($1, $2, $3, $4, now())',
      [randomUUID(), mpMember.userId, mp.id, 'subject-of-the-member'],
    );
    assert.deepEqual(ssoFields(await profileOrg(mpMember, mp)), { ...expected, ssoBound: true });
    assert.deepEqual(ssoFields(await profileOrg(mp.owner, mp)), expected);
    assert.equal((await profileOrg(member, plain)).ssoBound, false);
    // The admin's member list says the same.
    const linked = { ssoBound: true, usesKeyConnector: false, hasMasterPassword: true };
    assert.deepEqual(await listed(mp.owner, mp, mpMember), linked);
    assert.deepEqual(await listed(mp.owner, mp, mp.owner), { ...linked, ssoBound: false });
    assert.deepEqual(await listed(plainOwner, plain, member), { ...linked, ssoBound: false });

    // SSO off: the identifier stays (it still names the organization), the decryption type too.
    ok(await saveSso(mp.owner, mp, { identifier: 'ProfileMp', memberDecryptionType: 0, enabled: false }), 'off');
    assert.equal((await profileOrg(mpMember, mp)).ssoEnabled, false);
    const events = (await eventTypes(mp)).filter((t) => t >= 1600 && t < 1800);
    assert.deepEqual(events, [1604, 1605], 'SSO on, SSO off; no policy changed');
  });

  test('Key Connector: each missing prerequisite is a 400 naming it; then the profile carries the URL; leaving it is refused while a member uses it', async () => {
    const { org, owner, member } = await orgWithMember('kc');
    const kc = (enabled = true) => saveSso(owner, org, { identifier: 'ProfileKc', memberDecryptionType: 1, enabled });

    const refused = async (message: RegExp) => {
      const res = await kc();
      assertApiError(res, 400);
      assert.match((res.body as { message: string }).message, message);
    };
    await refused(/Single Organization policy/);
    await setPolicy(owner, org, 3, true);
    await refused(/Single Sign-On Authentication policy/);
    await setPolicy(owner, org, 4, true);
    const disabled = await kc(false);
    assertApiError(disabled, 400);
    assert.match((disabled.body as { message: string }).message, /enable SSO/);
    // Nothing was stored by the refusals.
    assert.equal((await server.db.rows('SELECT 1 FROM sso_config WHERE organization_id = $1', [org.id])).length, 0);
    assert.deepEqual(ssoFields(await profileOrg(member, org)), NO_SSO);

    ok(await kc(), 'key connector');
    const fields = ssoFields(await profileOrg(member, org));
    assert.deepEqual(fields, {
      ...NO_SSO,
      identifier: 'ProfileKc',
      ssoEnabled: true,
      ssoMemberDecryptionType: 1,
      keyConnectorEnabled: true,
      keyConnectorUrl: `${server.url.replace(/\/$/, '')}/api/key-connector`,
    });
    // A Key Connector of the organization's own is what its members' clients are sent to.
    ok(
      await saveSso(owner, org, {
        identifier: 'ProfileKc',
        memberDecryptionType: 1,
        keyConnectorUrl: 'https://kc.profile.test',
      }),
      'own key connector',
    );
    assert.equal((await profileOrg(member, org)).keyConnectorUrl, 'https://kc.profile.test');
    ok(await kc(), 'back to the hosted one');

    // The member moves to Key Connector (the client stores its master key there first).
    const key = member.account.masterKey.toString('base64');
    ok(await send(member, 'POST', '/api/key-connector/user-keys', { key }), 'store key');
    ok(await send(member, 'POST', '/api/accounts/convert-to-key-connector'), 'convert');
    assert.deepEqual(await listed(owner, org, member), {
      ssoBound: false,
      usesKeyConnector: true,
      hasMasterPassword: false,
    });
    const leave = await saveSso(owner, org, { identifier: 'ProfileKc', memberDecryptionType: 0 });
    assertApiError(leave, 400);
    assert.equal((leave.body as { message: string }).message, 'Key Connector cannot be disabled at this moment.');
    assert.equal((await profileOrg(member, org)).ssoMemberDecryptionType, 1, 'still Key Connector');

    const events = (await eventTypes(org)).filter((t) => t >= 1600 && t < 1800);
    // Two policies set by hand (1700 each), then SSO on with Key Connector on, once.
    assert.deepEqual(events, [1604, 1606, 1700, 1700]);
  });

  test('trusted devices turn on Single Organization, Account recovery (auto-enrol) and Require SSO, each with its event', async () => {
    const { org, owner, member } = await orgWithMember('tde');
    for (const type of [3, 8, 4]) assert.equal((await policy(owner, org, type)).enabled, false);

    await configureOidc(server.http, owner.token, org.id, {
      identifier: 'ProfileTde',
      authority: AUTHORITY,
      memberDecryptionType: 2,
    });
    assert.equal((await policy(owner, org, 3)).enabled, true, 'single organization');
    const recovery = await policy(owner, org, 8);
    assert.equal(recovery.enabled, true, 'account recovery');
    assert.equal(recovery.data?.['autoEnrollEnabled'], true, 'with automatic enrolment');
    assert.equal((await policy(owner, org, 4)).enabled, true, 'require SSO');

    assert.deepEqual(ssoFields(await profileOrg(member, org)), {
      ...NO_SSO,
      identifier: 'ProfileTde',
      ssoEnabled: true,
      ssoMemberDecryptionType: 2,
    });
    // The member's sync carries the policies too, and auto-enroll-status says enrolment is automatic.
    const sync = ok(await send<{ policies: PolicyJson[] }>(member, 'GET', '/api/sync'), 'sync');
    assert.deepEqual(
      sync.policies
        .filter((p) => p.enabled)
        .map((p) => p.type)
        .sort(),
      [3, 4, 8],
    );
    const status = ok(
      await send<{ resetPasswordEnabled: boolean }>(member, 'GET', '/api/organizations/ProfileTde/auto-enroll-status'),
      'auto-enroll-status',
    );
    assert.equal(status.resetPasswordEnabled, true);

    // Saving again changes no policy: no new policy events.
    await configureOidc(server.http, owner.token, org.id, {
      identifier: 'ProfileTde',
      authority: AUTHORITY,
      memberDecryptionType: 2,
    });
    const events = (await eventTypes(org)).filter((t) => t >= 1600 && t < 1800);
    assert.deepEqual(events, [1604, 1700, 1700, 1700]);
  });

  test('a refused trusted-device save (identifier taken) turns no policy on', async () => {
    const { org, owner } = await orgWithMember('clash');
    await configureOidc(server.http, owner.token, org.id, { identifier: 'ProfileClash', authority: AUTHORITY });
    const { org: other, owner: otherOwner } = await orgWithMember('clash2');
    const res = await saveSso(otherOwner, other, { identifier: 'profileclash', memberDecryptionType: 2 });
    assertApiError(res, 400);
    assert.match((res.body as { message: string }).message, /identifier is already in use/);
    for (const type of [3, 8, 4]) assert.equal((await policy(otherOwner, other, type)).enabled, false);
    assert.deepEqual(
      (await eventTypes(other)).filter((t) => t >= 1600 && t < 1800),
      [],
    );
  });
});
