import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { call, createOrg, join, newPerson, ok, type Org, type Person } from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { formOf, loadSamlify, startSamlIdp } from './saml-idp';

/**
 * SSO with SAML 2.0 end to end, Keyhaven as the service provider: a samlify IdP on loopback signing
 * with its own key, SP-initiated by HTTP-Redirect and HTTP-POST, through identity/connect/authorize
 * → IdP → /sso/saml2/{orgId}/Acs → code → connect/token, as the clients do; then every forged,
 * stale, replayed, unsolicited or artifact answer refused with a page and no code minted.
 */

const REDIRECT = 'http://localhost:8065';

describeOnBackends('SSO with SAML 2.0 (samlify IdP on loopback)', (backend) => {
  let server: BackedServer;
  let idp: Awaited<ReturnType<typeof startSamlIdp>>;
  let owner: Person;
  let member: Person;
  let org: Org;

  before(async () => {
    server = await startAllInOne(backend, { SSO_ALLOW_HTTP_IDP: 'true', LOG_LEVEL: 'warn' });
    owner = await newPerson(server.http, 'saml-owner@example.com');
    org = await createOrg(server.http, owner, 'Saml Co');
    member = await newPerson(server.http, 'saml-member@example.com');
    await join(server.http, org, owner.token, member, { type: 2 });
    idp = await startSamlIdp(async () => (await server.http.request('GET', `/sso/saml2/${org.id}`)).text);
  });
  after(async () => {
    await (idp as typeof idp | undefined)?.close();
    await (server as BackedServer | undefined)?.stop();
  });

  const configure = (binding: 1 | 2, extra: Record<string, unknown> = {}) =>
    call<Record<string, unknown>>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/sso`, {
      enabled: true,
      identifier: 'samlco',
      data: {
        configType: 2,
        memberDecryptionType: 0,
        spUniqueEntityId: true,
        spNameIdFormat: 2,
        spSigningBehavior: 3,
        spWantAssertionsSigned: true,
        spMinIncomingSigningAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
        idpEntityId: idp.entityId,
        idpBindingType: binding,
        idpSingleSignOnServiceUrl: idp.ssoUrl,
        idpX509PublicCert: idp.certificate,
        idpAllowUnsolicitedAuthnResponse: false,
        ...extra,
      },
    });

  const codes = async (): Promise<number> =>
    Number(
      (await server.db.rows<{ n: string }>("SELECT count(*) AS n FROM sso_pending WHERE kind = 'code'", []))[0]!.n,
    );

  /** Events of one type, recorded or still in the outbox. */
  const eventCount = async (type: number): Promise<number> =>
    (
      await server.db.rows<{ type: number }>(
        "SELECT (payload->>'type')::int AS type FROM event_outbox UNION ALL SELECT type FROM event",
        [],
      )
    ).filter((e) => e.type === type).length;

  /** The client's side up to the IdP: prevalidate, authorize; returns what the browser is sent to. */
  async function begin() {
    const verifier = randomBytes(48).toString('base64url').slice(0, 64);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const state = `${randomBytes(48).toString('hex').slice(0, 64)}_identifier=samlco`;
    const token = ok(
      await call<{ token: string }>(server.http, undefined, 'GET', '/identity/sso/prevalidate?domainHint=samlco'),
      'prevalidate',
    ).token;
    const res = await server.http.request(
      'GET',
      `/identity/connect/authorize?client_id=cli&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code` +
        `&scope=api%20offline_access&state=${state}&code_challenge=${challenge}&code_challenge_method=S256` +
        `&response_mode=query&domain_hint=samlco&ssoToken=${encodeURIComponent(token)}`,
    );
    return { res, verifier, state };
  }

  /** The browser at the IdP: follows the Redirect or POST binding and returns the form it must post to the ACS. */
  async function atIdp(res: Awaited<ReturnType<typeof begin>>['res']) {
    let page: Response;
    if (res.status === 302) {
      const location = String(res.headers['location']);
      assert.ok(location.startsWith(idp.ssoUrl), location);
      page = await fetch(location);
    } else {
      assert.equal(res.status, 200, res.text);
      const form = formOf(res.text);
      assert.equal(form.action, idp.ssoUrl);
      page = await fetch(form.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form.fields).toString(),
      });
    }
    const html = await page.text();
    assert.equal(page.status, 200, html);
    return formOf(html);
  }

  const postAcs = (fields: Record<string, string>) =>
    server.http.request('POST', `/sso/saml2/${org.id}/Acs`, { form: fields });

  const exchange = (code: string, verifier: string) =>
    server.http.request<Record<string, unknown>>('POST', '/identity/connect/token', {
      form: {
        scope: 'api offline_access',
        client_id: 'cli',
        deviceType: '25',
        deviceIdentifier: '6f1d2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b',
        deviceName: 'linux',
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
      },
    });

  /** A whole login as `email`; returns the ACS answer. */
  async function login(email: string) {
    idp.state.email = email;
    const started = await begin();
    const form = await atIdp(started.res);
    assert.equal(form.action, `${server.url}/sso/saml2/${org.id}/Acs`);
    const acs = await postAcs(form.fields);
    return { ...started, form, acs };
  }

  async function assertRefused(
    acs: { status: number; text: string; headers: Record<string, unknown> },
    before: number,
  ) {
    assert.equal(acs.status, 400, acs.text);
    assert.equal(acs.headers['location'], undefined, 'never a redirect');
    assert.match(acs.text, /Single sign-on failed/);
    assert.equal(await codes(), before, 'no code minted');
  }

  /**
   * The server's log since `mark` must hold `pattern`; waited for (bounded), because the PostgreSQL
   * backend's server is a child process whose log lines may arrive after its HTTP reply.
   */
  async function assertLogged(mark: number, pattern: RegExp, message?: string): Promise<void> {
    for (let i = 0; i < 50 && !pattern.test(server.output().slice(mark)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(server.output().slice(mark), pattern, message);
  }

  /** A login as the member whose response the IdP (or the attacker on the way) bends; it must be refused. */
  async function refusedLogin(why: string, bend: () => void, logged: RegExp) {
    const before = await codes();
    const mark = server.output().length;
    bend();
    try {
      const flow = await login(member.email);
      await assertRefused(flow.acs, before);
    } finally {
      idp.reset();
    }
    await assertLogged(mark, logged, `the admin's log line for ${why}`);
  }

  /** The RelayState of a fresh sign-in (Redirect binding), the browser stopped before the IdP. */
  async function freshRelayState(): Promise<string> {
    const started = await begin();
    assert.equal(started.res.status, 302);
    return new URL(String(started.res.headers['location'])).searchParams.get('RelayState')!;
  }

  test('SP metadata names the entity id and the ACS; the config advertises exactly those URLs', async () => {
    const saved = ok(await configure(1), 'save SAML config');
    const urls = saved['urls'] as Record<string, string>;
    const res = await server.http.request('GET', new URL(urls['spMetadataUrl']!).pathname);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /xml/);
    // samlify reads it with a strict XML parser (it throws on anything not well-formed).
    const metadata = (await loadSamlify()).SPMetadata(res.text);
    assert.equal(metadata.getEntityID(), urls['spEntityId']);
    assert.equal(metadata.getAssertionConsumerService('post'), urls['spAcsUrl']);
    assert.match(res.text, /Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"/);
    assert.match(res.text, /<KeyDescriptor use="encryption">/, 'assertions may be encrypted to Keyhaven');
    assert.doesNotMatch(res.text, /<KeyDescriptor use="signing">/, 'requests are not signed (behaviour Never)');
    assert.equal(
      (await server.http.request('GET', `/sso/saml2/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`)).status,
      404,
    );
  });

  test('HTTP-Redirect binding: an existing member logs in through the IdP, state comes back byte for byte, the code unlocks', async () => {
    ok(await configure(1), 'save SAML config (Redirect)');
    const before = await codes();
    const flow = await login(member.email);
    assert.equal(flow.acs.status, 302, flow.acs.text);
    assert.equal(await codes(), before + 1, 'one code minted');
    const location = String(flow.acs.headers['location']);
    assert.ok(location.startsWith(`${REDIRECT}?code=`), location);
    assert.ok(location.endsWith(`&state=${flow.state}`), location);
    const code = new URL(location).searchParams.get('code')!;
    const res = await exchange(code, flow.verifier);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['Key'], member.account.key, 'the master-password-wrapped user key unlocks');
    assert.equal((res.body['UserDecryptionOptions'] as Record<string, unknown>)['HasMasterPassword'], true);
    const links = await server.db.rows<{ external_id: string }>(
      'SELECT external_id FROM sso_user WHERE organization_id = $1',
      [org.id],
    );
    assert.deepEqual(
      links.map((l) => l.external_id),
      [member.email],
      'linked by NameID',
    );
    assert.ok((await eventCount(1510)) > 0, 'FirstSsoLogin event');
  });

  test('HTTP-POST binding: the AuthnRequest goes as an auto-posting form and the member logs in', async () => {
    ok(await configure(2), 'save SAML config (POST)');
    const flow = await login(member.email);
    assert.equal(flow.acs.status, 302, flow.acs.text);
    const code = new URL(String(flow.acs.headers['location'])).searchParams.get('code')!;
    assert.equal((await exchange(code, flow.verifier)).status, 200);
  });
  test('a tampered signature is refused (NameID changed after signing)', async () => {
    ok(await configure(1), 'save SAML config (Redirect)');
    await refusedLogin(
      'a tampered signature',
      () => {
        idp.state.tamper = (xml) => {
          const bent = xml.replace(`>${member.email}</saml:NameID>`, `>${owner.email}</saml:NameID>`);
          assert.notEqual(bent, xml);
          return bent;
        };
      },
      /SAML response refused: Invalid signature/,
    );
  });

  test('XML signature wrapping is refused: an unsigned assertion around the signed one, or next to it', async () => {
    const CLOSE = '</saml:Assertion>';
    const split = (xml: string) => {
      const start = xml.indexOf('<saml:Assertion');
      const end = xml.indexOf(CLOSE) + CLOSE.length;
      const signed = xml.slice(start, end);
      assert.match(signed, /<ds:Signature/);
      const evil = signed
        .replace(/ ID="[^"]+"/, ' ID="_evil"')
        .replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/, '')
        .replace(`>${member.email}<`, `>${owner.email}<`);
      return { before: xml.slice(0, start), signed, evil, after: xml.slice(end) };
    };
    await refusedLogin(
      'a wrapping assertion',
      () => {
        idp.state.tamper = (xml) => {
          const p = split(xml);
          return p.before + p.evil.slice(0, -CLOSE.length) + p.signed + CLOSE + p.after;
        };
      },
      /SAML response refused: Invalid signature/,
    );
    await refusedLogin(
      'a sibling assertion',
      () => {
        idp.state.tamper = (xml) => {
          const p = split(xml);
          return p.before + p.evil + p.signed + p.after;
        };
      },
      /SAML response refused: Invalid signature: multiple assertions/,
    );
  });

  test('a wrong audience and expired conditions are refused', async () => {
    await refusedLogin(
      'a wrong audience',
      () => {
        idp.state.overrides = { audience: 'https://elsewhere.example/sso/saml2' };
      },
      /SAML response refused: SAML assertion audience mismatch/,
    );
    await refusedLogin(
      'expired conditions',
      () => {
        idp.state.overrides = { notBefore: -1200, notOnOrAfter: -600 };
      },
      /SAML response refused: .*(expired|NotOnOrAfter|subject confirmation)/i,
    );
  });

  test('a replayed response is refused, on its own RelayState and on a fresh sign-in', async () => {
    const flow = await login(member.email);
    assert.equal(flow.acs.status, 302, flow.acs.text);
    const used = idp.state.last!;
    const before = await codes();
    let mark = server.output().length;
    await assertRefused(await postAcs({ SAMLResponse: used.SAMLResponse, RelayState: used.RelayState }), before);
    await assertLogged(mark, /SAML response refused: no pending sign-in for the RelayState/);
    mark = server.output().length;
    const relayState = await freshRelayState();
    await assertRefused(await postAcs({ SAMLResponse: used.SAMLResponse, RelayState: relayState }), before);
    await assertLogged(mark, /SAML response refused: InResponseTo is not valid/);
  });

  test('an unsolicited response is refused unless the configuration allows it; an allowed IdP-initiated one only leads to the web vault SSO page', async () => {
    await refusedLogin(
      'an unsolicited response',
      () => {
        idp.state.overrides = { unsolicited: true };
      },
      /SAML response refused: InResponseTo is missing from response/,
    );
    const unsolicited = await idp.issue({ email: member.email, inResponseTo: null });
    const before = await codes();
    await assertRefused(await postAcs({ SAMLResponse: unsolicited }), before);
    ok(await configure(1, { idpAllowUnsolicitedAuthnResponse: true }), 'allow unsolicited');
    try {
      // IdP-initiated (a dashboard tile): nothing granted, the web vault's SSO page starts a real sign-in.
      const tile = await postAcs({ SAMLResponse: unsolicited });
      assert.equal(tile.status, 302, tile.text);
      assert.equal(tile.headers['location'], `${server.url}/#/sso?identifier=samlco`);
      assert.equal(await codes(), before, 'no code minted');
      // A solicited response without its sign-in (a replay) is still refused.
      const solicited = await idp.issue({ email: member.email, inResponseTo: '_a0b1c2d3e4f5' });
      await assertRefused(await postAcs({ SAMLResponse: solicited }), before);
      idp.state.overrides = { unsolicited: true };
      const allowed = await login(member.email);
      assert.equal(allowed.acs.status, 302, allowed.acs.text);
    } finally {
      idp.reset();
      ok(await configure(1), 'back to solicited only');
    }
  });

  test('the artifact binding is refused, posted or in the query; refusals record failed logins', async () => {
    const failedBefore = await eventCount(1005);
    const before = await codes();
    const mark = server.output().length;
    const relayState = await freshRelayState();
    await assertRefused(
      await postAcs({
        SAMLart: 'AAQAAMh48/1oXIM+sDo7Dh2qMp1HM4IF5DaRNmDj6RdUmllwn9jJHyEgIi8=',
        RelayState: relayState,
      }),
      before,
    );
    const viaGet = await server.http.request(
      'GET',
      `/sso/saml2/${org.id}/Acs?SAMLart=AAQAAMh48%2F1oXIM&RelayState=${encodeURIComponent(relayState)}`,
    );
    await assertRefused(viaGet, before);
    await assertLogged(mark, /SAML response refused: artifact binding \(SAMLart\) is not supported/);
    const links = await server.db.rows<{ user_id: string }>('SELECT user_id FROM sso_user WHERE organization_id = $1', [
      org.id,
    ]);
    assert.ok(!links.some((l) => l.user_id === owner.userId), 'no forged response linked the owner');
    assert.equal(await eventCount(1005), failedBefore + 2, 'User_FailedLogIn for each refusal');
    assert.ok(!server.output().includes(idp.state.last!.SAMLResponse.slice(0, 40)), 'no response in the log');
  });
  test("signed AuthnRequests (Redirect and POST) and encrypted assertions, with Keyhaven's own SP key from the metadata", async () => {
    try {
      idp.state.wantSignedRequests = true;
      // The IdP really checks: an unsigned request is turned away there.
      ok(await configure(1, { spSigningBehavior: 3 }), 'never sign');
      idp.state.email = member.email;
      const unsigned = await begin();
      const refused = await fetch(String(unsigned.res.headers['location']));
      assert.equal(refused.status, 400, 'the IdP refuses an unsigned request');
      for (const binding of [1, 2] as const) {
        const saved = ok(await configure(binding, { spSigningBehavior: 1 }), 'always sign');
        const metadata = (
          await server.http.request(
            'GET',
            new URL((saved['urls'] as Record<string, string>)['spMetadataUrl']!).pathname,
          )
        ).text;
        assert.match(metadata, /AuthnRequestsSigned="true"/);
        assert.match(metadata, /<KeyDescriptor use="signing">/);
        const flow = await login(member.email);
        assert.equal(flow.acs.status, 302, `binding ${binding}: ${flow.acs.text}`);
        if (binding === 1) assert.match(String(flow.res.headers['location']), /&Signature=/);
        else
          assert.match(
            Buffer.from(formOf(flow.res.text).fields['SAMLRequest']!, 'base64').toString(),
            /<(ds:)?Signature[ >]/,
          );
        ok(
          await exchange(new URL(String(flow.acs.headers['location'])).searchParams.get('code')!, flow.verifier),
          'token',
        );
      }
      idp.state.wantSignedRequests = false;
      ok(await configure(1), 'unsigned requests again');
      idp.state.encryptAssertions = true;
      const encrypted = await login(member.email);
      assert.match(Buffer.from(idp.state.last!.SAMLResponse, 'base64').toString(), /EncryptedAssertion/);
      assert.equal(encrypted.acs.status, 302, encrypted.acs.text);
    } finally {
      idp.state.wantSignedRequests = false;
      idp.state.encryptAssertions = false;
      ok(await configure(1), 'back to the plain configuration');
    }
  });
  test('OID-named attributes (Shibboleth, Keycloak): mail picked by its OID over another OID address, a persistent NameID links, the groups attribute maps the group', async () => {
    const person = await newPerson(server.http, 'saml-oid@example.com');
    await join(server.http, org, owner.token, person, { type: 2 });
    const group = ok(
      await call<{ id: string }>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/groups`, {
        name: 'Engineering',
        collections: [],
        users: [],
      }),
      'group',
    );
    ok(await configure(1, { spNameIdFormat: 7, groupsClaimType: 'memberOf' }), 'persistent NameID, groups attribute');
    try {
      idp.state.overrides = {
        nameId: 'opaque-7f3a9c',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        attributes: {
          // eduPersonPrincipalName first: an address, but not the mail one.
          'urn:oid:1.3.6.1.4.1.5923.1.1.1.6': ['someone-else@example.org'],
          'urn:oid:0.9.2342.19200300.100.1.3': [person.email],
          'urn:oid:2.16.840.1.113730.3.1.241': ['Oid Person'],
          memberOf: ['Engineering'],
        },
      };
      const flow = await login(person.email);
      assert.equal(flow.acs.status, 302, flow.acs.text);
      const links = await server.db.rows<{ user_id: string }>(
        'SELECT user_id FROM sso_user WHERE organization_id = $1 AND external_id = $2',
        [org.id, 'opaque-7f3a9c'],
      );
      assert.deepEqual(
        links.map((l) => l.user_id),
        [person.userId],
        'linked to the mail address, by the persistent NameID',
      );
      const strangers = await server.db.rows('SELECT id FROM app_user WHERE email = $1', ['someone-else@example.org']);
      assert.equal(strangers.length, 0, 'nobody provisioned for the other address');
      const groups = await server.db.rows<{ group_id: string }>(
        'SELECT g.group_id FROM group_user g JOIN organization_user m ON m.id = g.organization_user_id WHERE m.user_id = $1',
        [person.userId],
      );
      assert.deepEqual(
        groups.map((g) => g.group_id),
        [group.id],
      );
    } finally {
      idp.reset();
      ok(await configure(1), 'back to the plain configuration');
    }
  });
  test('with "unique SP entity id" off the static entity id is published and is the only audience accepted', async () => {
    const saved = ok(await configure(1, { spUniqueEntityId: false }), 'static entity id');
    const urls = saved['urls'] as Record<string, string>;
    try {
      const metadata = (await loadSamlify()).SPMetadata(
        (await server.http.request('GET', new URL(urls['spMetadataUrl']!).pathname)).text,
      );
      assert.equal(metadata.getEntityID(), urls['spEntityIdStatic']);
      const flow = await login(member.email);
      assert.equal(flow.acs.status, 302, flow.acs.text);
      await refusedLogin(
        'the per-organization audience while the static one is chosen',
        () => {
          idp.state.overrides = { audience: urls['spEntityId']! };
        },
        /SAML response refused: SAML assertion audience mismatch/,
      );
    } finally {
      ok(await configure(1), 'back to the per-organization entity id');
    }
  });
});
