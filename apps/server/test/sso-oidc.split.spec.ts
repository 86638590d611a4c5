import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCode } from '@keyhaven/vault-crypto';
import { enableTotp, skipUnlessService, type HttpClient, type ServerProcess } from '@keyhaven/testing';
import { call, createOrg, join, newPerson, ok, type Org, type Person } from './org-fixtures';
import { startSplitApps, type SplitApps } from './split-stack';
import {
  Browser,
  SSO_TEST_ENV,
  authorizeUrl,
  clientState,
  configureOidc,
  exchangeCode,
  jwtPayload,
  pkce,
  prevalidate,
  startIdp,
  type BrowserTarget,
  type Idp,
} from './sso-fixtures';

const DOMAIN = 'https://sso.keyhaven.test';

/**
 * SSO across two instances: two all-in-one server processes on one PostgreSQL database (and the
 * machine's Redis and RabbitMQ) behind one DOMAIN. The browser's authorize request goes to the first,
 * the IdP's callback (form_post) to the second, and the client's token exchange to the first again,
 * as a load balancer without sticky sessions would send them: every pending step must be in the
 * database, nothing in one process's memory.
 */
describe('SSO with OIDC across two instances (PostgreSQL)', async () => {
  const skip = await skipUnlessService('postgres', 'redis', 'rabbitmq');
  let stack: SplitApps;
  let idp: Idp;
  let first: ServerProcess;
  let second: ServerProcess;
  let owner: Person;
  let org: Org;

  before(async () => {
    if (skip) return;
    stack = await startSplitApps(['server', 'server'], DOMAIN, SSO_TEST_ENV);
    [first, second] = stack.servers as [ServerProcess, ServerProcess];
    idp = await startIdp(`${DOMAIN}/sso/oidc-signin`);
    owner = await newPerson(first.http, 'ha-sso-owner@example.com');
    org = await createOrg(first.http, owner, 'Acme');
    await configureOidc(first.http, owner.token, org.id, { identifier: 'acme', authority: idp.issuer });
  });
  after(async () => {
    await (idp as Idp | undefined)?.close();
    await (stack as SplitApps | undefined)?.stop('SIGKILL');
  });

  /** Browser requests under /sso/ (the IdP callback) go to the second instance, the rest to the first. */
  function routed(): { target: BrowserTarget; served: string[] } {
    const served: string[] = [];
    const target: BrowserTarget = {
      domain: DOMAIN,
      pick: (path: string): HttpClient => {
        const instance = path.startsWith('/sso/') ? second : first;
        served.push(`${instance === first ? 'first' : 'second'} ${path.split('?')[0]!}`);
        return instance.http;
      },
    };
    return { target, served };
  }

  async function member(sub: string): Promise<Person> {
    const person = await newPerson(first.http, `${sub}@example.com`);
    await join(first.http, org, owner.token, person, { type: 2 });
    idp.accounts.set(sub, { password: `${sub}-idp`, email: person.email, name: sub, groups: [] });
    return person;
  }

  async function authorizeThroughBoth(sub: string) {
    const { verifier, challenge } = pkce();
    const ssoToken = await prevalidate(second.http, 'acme');
    const { target, served } = routed();
    const end = await new Browser(target, { login: sub, password: `${sub}-idp` }).go(
      authorizeUrl(DOMAIN, { state: clientState('acme'), challenge, identifier: 'acme', ssoToken }),
    );
    assert.ok(end.url, `the flow stopped at ${end.status}: ${end.text.slice(0, 300)}`);
    assert.deepEqual(served, ['first /identity/connect/authorize', 'second /sso/oidc-signin']);
    return { code: new URL(end.url).searchParams.get('code') ?? '', verifier };
  }

  test('prevalidate on the second, authorize on the first, IdP callback on the second, token on the first', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const person = await member('ha-member');
    const { code, verifier } = await authorizeThroughBoth('ha-member');
    const res = await exchangeCode(first.http, code, verifier);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['Key'], person.account.key);
    assert.deepEqual(jwtPayload(String(res.body['access_token']))['amr'], ['external']);
    ok(await call(second.http, String(res.body['access_token']), 'GET', '/api/sync'), 'sync on the other instance');
    assert.equal((await exchangeCode(second.http, code, verifier)).status, 400, 'spent for both instances');
  });

  test('a TOTP member: the 2FA challenge on the first instance, the same code completes on the second', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const person = await member('ha-totp');
    const totpKey = await enableTotp(first.http, person.account, person.token);
    const { code, verifier } = await authorizeThroughBoth('ha-totp');
    const challenge = await exchangeCode(first.http, code, verifier);
    assert.equal(challenge.status, 400, challenge.text);
    assert.deepEqual(challenge.body['TwoFactorProviders2'], { '0': null });
    const done = await exchangeCode(second.http, code, verifier, {
      twoFactorProvider: '0',
      twoFactorToken: totpCode(totpKey, Date.now() + 30_000),
      twoFactorRemember: '0',
    });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body['Key'], person.account.key);
  });
});
