import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { skipUnlessService, type HttpClient, type ServerProcess } from '@keyhaven/testing';
import { call, createOrg, join, newPerson, ok, type Org, type Person } from './org-fixtures';
import { formOf, startSamlIdp } from './saml-idp';
import { startSplitApps, type SplitApps } from './split-stack';

const DOMAIN = 'https://saml.keyhaven.test';
const REDIRECT = 'http://localhost:8065';

/**
 * SAML across two instances: two all-in-one server processes on one PostgreSQL database behind one
 * DOMAIN. The AuthnRequest is sent by the first, the IdP's response reaches the ACS of the second,
 * and the client's token exchange goes to the first again: the request id and the flow must be in
 * the database, and a response accepted on one instance is refused on the other.
 */
describe('SSO with SAML 2.0 across two instances (PostgreSQL)', async () => {
  const skip = await skipUnlessService('postgres', 'redis', 'rabbitmq');
  let stack: SplitApps;
  let first: ServerProcess;
  let second: ServerProcess;
  let idp: Awaited<ReturnType<typeof startSamlIdp>>;
  let owner: Person;
  let member: Person;
  let org: Org;

  before(async () => {
    if (skip) return;
    stack = await startSplitApps(['server', 'server'], DOMAIN, { SSO_ALLOW_HTTP_IDP: 'true' });
    [first, second] = stack.servers as [ServerProcess, ServerProcess];
    owner = await newPerson(first.http, 'ha-saml-owner@example.com');
    org = await createOrg(first.http, owner, 'Saml HA');
    member = await newPerson(first.http, 'ha-saml-member@example.com');
    await join(first.http, org, owner.token, member, { type: 2 });
    idp = await startSamlIdp(async () => (await second.http.request('GET', `/sso/saml2/${org.id}`)).text);
  });
  after(async () => {
    await (idp as typeof idp | undefined)?.close();
    await (stack as SplitApps | undefined)?.stop('SIGKILL');
  });

  const configure = (binding: 1 | 2) =>
    call(first.http, owner.token, 'POST', `/api/organizations/${org.id}/sso`, {
      enabled: true,
      identifier: 'samlha',
      data: {
        configType: 2,
        memberDecryptionType: 0,
        spNameIdFormat: 2,
        spSigningBehavior: 3,
        spWantAssertionsSigned: true,
        idpEntityId: idp.entityId,
        idpBindingType: binding,
        idpSingleSignOnServiceUrl: idp.ssoUrl,
        idpX509PublicCert: idp.certificate,
      },
    });

  /** authorize on `at` → the IdP → the form the browser must post to the ACS. */
  async function throughIdp(at: HttpClient) {
    const verifier = randomBytes(48).toString('base64url').slice(0, 64);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const state = `${randomBytes(48).toString('hex').slice(0, 64)}_identifier=samlha`;
    const token = ok(
      await call<{ token: string }>(second.http, undefined, 'GET', '/identity/sso/prevalidate?domainHint=samlha'),
      'prevalidate on the second',
    ).token;
    const res = await at.request(
      'GET',
      `/identity/connect/authorize?client_id=cli&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code` +
        `&scope=api%20offline_access&state=${state}&code_challenge=${challenge}&code_challenge_method=S256` +
        `&domain_hint=samlha&ssoToken=${encodeURIComponent(token)}`,
    );
    let page: Response;
    if (res.status === 302) {
      page = await fetch(String(res.headers['location']));
    } else {
      assert.equal(res.status, 200, res.text);
      const form = formOf(res.text);
      page = await fetch(form.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form.fields).toString(),
      });
    }
    const form = formOf(await page.text());
    assert.equal(form.action, `${DOMAIN}/sso/saml2/${org.id}/Acs`);
    return { form, verifier, state };
  }

  const exchange = (at: HttpClient, code: string, verifier: string) =>
    at.request<Record<string, unknown>>('POST', '/identity/connect/token', {
      form: {
        scope: 'api offline_access',
        client_id: 'cli',
        deviceType: '25',
        deviceIdentifier: '0d3f9a1b-2c4e-4f6a-8b7c-9d0e1f2a3b4c',
        deviceName: 'linux',
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
      },
    });

  for (const [binding, name] of [
    [1, 'HTTP-Redirect'],
    [2, 'HTTP-POST'],
  ] as const) {
    test(`${name}: AuthnRequest from the first, ACS on the second, token on the first; the response is spent for both`, async (t) => {
      if (skip) {
        t.skip(skip);
        return;
      }
      ok(await configure(binding), 'save SAML config');
      idp.state.email = member.email;
      const { form, verifier, state } = await throughIdp(first.http);
      const acs = await second.http.request('POST', `/sso/saml2/${org.id}/Acs`, { form: form.fields });
      assert.equal(acs.status, 302, acs.text);
      const location = String(acs.headers['location']);
      assert.ok(location.endsWith(`&state=${state}`), location);
      const res = await exchange(first.http, new URL(location).searchParams.get('code')!, verifier);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body['Key'], member.account.key);
      // The same response again, on the first instance: with its own RelayState, and with a fresh sign-in's.
      const replay = await first.http.request('POST', `/sso/saml2/${org.id}/Acs`, { form: form.fields });
      assert.equal(replay.status, 400, replay.text);
      const fresh = await throughIdp(first.http);
      const crossed = await first.http.request('POST', `/sso/saml2/${org.id}/Acs`, {
        form: { SAMLResponse: form.fields['SAMLResponse']!, RelayState: fresh.form.fields['RelayState']! },
      });
      assert.equal(crossed.status, 400, crossed.text);
      assert.equal(crossed.headers['location'], undefined);
    });
  }
});
