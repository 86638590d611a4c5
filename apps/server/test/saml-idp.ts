import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import forge from 'node-forge';

/**
 * A SAML 2.0 identity provider on loopback for the SSO tests, built with samlify and signing with
 * its own freshly made RSA key and self-signed certificate. It answers AuthnRequests by
 * HTTP-Redirect (`GET /sso`) and HTTP-POST (`POST /sso`) with a signed Response for whoever the test
 * says is at the keyboard, as an auto-posting form to the SP's ACS (read from the SP's metadata).
 * `options` lets a test bend the next responses (audience, validity, InResponseTo) and `tamper`
 * rewrite the signed XML before it leaves, to play an attacker.
 */

const unescapeHtml = (s: string): string =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The action and hidden fields of an auto-posting form page. */
export function formOf(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(html)?.[1];
  assert.ok(action, `no form in ${html.slice(0, 300)}`);
  const fields = Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [
      unescapeHtml(m[1]!),
      unescapeHtml(m[2]!),
    ]),
  );
  return { action: unescapeHtml(action), fields };
}

export interface IssueOptions {
  /** NameID (emailAddress format). */
  email: string;
  /** The AuthnRequest id answered; null makes an unsolicited response (no InResponseTo). */
  inResponseTo: string | null;
  audience?: string;
  /** Validity window of the assertion relative to now, in seconds (default -60 … +300). */
  notBefore?: number;
  notOnOrAfter?: number;
  /** NameID instead of the email, with its format (default emailAddress). */
  nameId?: string;
  nameIdFormat?: string;
  /** An AttributeStatement: attribute name (URI or plain) → values. */
  attributes?: Record<string, string[]>;
}

const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

const xmlText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

function attributeStatement(attributes: Record<string, string[]> | undefined): string {
  if (!attributes) return '';
  const each = Object.entries(attributes).map(
    ([name, values]) =>
      `<saml:Attribute Name="${xmlText(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">` +
      values.map((v) => `<saml:AttributeValue xsi:type="xs:string">${xmlText(v)}</saml:AttributeValue>`).join('') +
      '</saml:Attribute>',
  );
  return `<saml:AttributeStatement>${each.join('')}</saml:AttributeStatement>`;
}

/** The part of samlify used here (its own declarations pull in the DOM lib, which breaks other files' types). */
interface SpMeta {
  getEntityID(): string;
  getAssertionConsumerService(binding: string): string;
}
interface Sp {
  entityMeta: SpMeta;
}
interface Idp {
  entityMeta: { getEntityID(): string };
  parseLoginRequest(sp: Sp, binding: string, req: Record<string, unknown>): Promise<{ extract: unknown }>;
  createLoginResponse(
    sp: Sp,
    requestInfo: Record<string, unknown>,
    binding: string,
    user: { email: string },
    options: { customTagReplacement: (template: string) => { id: string; context: string } },
  ): Promise<{ context: string }>;
}
interface Samlify {
  setSchemaValidator(validator: { validate: (xml: string) => Promise<string> }): void;
  IdentityProvider(settings: Record<string, unknown>): Idp;
  ServiceProvider(settings: { metadata: string }): Sp;
  SPMetadata(xml: string): SpMeta;
  SamlLib: { replaceTagsByValue(template: string, values: Record<string, string>): string };
  Constants: { namespace: { binding: { redirect: string; post: string } } };
}

/** samlify, loaded by a specifier the compiler does not follow (see `Samlify`). */
export async function loadSamlify(): Promise<Samlify> {
  const name = 'samlify';
  const samlify = (await import(name)) as Samlify;
  // The SP's requests are Keyhaven's; their XML schema is not what these tests are about.
  samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped') });
  return samlify;
}

/** An RSA key and a self-signed certificate for it (node:crypto makes the key, forge the certificate). */
export function makeSigningCertificate(commonName: string): { key: string; cert: string; bareCert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.sign(forge.pki.privateKeyFromPem(key), forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  return { key, cert: pem, bareCert: pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '') };
}

const iso = (offsetSeconds: number): string => new Date(Date.now() + offsetSeconds * 1000).toISOString();

async function readBody(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export async function startSamlIdp(spMetadata: () => Promise<string>) {
  const samlify = await loadSamlify();
  const signing = makeSigningCertificate('Test SAML IdP');
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  /** The IdP as the state says it behaves now (samlify fixes these settings at construction). */
  const makeIdp = () =>
    samlify.IdentityProvider({
      entityID: `${url}/metadata`,
      privateKey: signing.key,
      signingCert: signing.cert,
      nameIDFormat: [EMAIL_FORMAT],
      singleSignOnService: [
        { Binding: samlify.Constants.namespace.binding.redirect, Location: `${url}/sso` },
        { Binding: samlify.Constants.namespace.binding.post, Location: `${url}/sso` },
      ],
      wantAuthnRequestsSigned: state.wantSignedRequests,
      isAssertionEncrypted: state.encryptAssertions,
    });
  const state = {
    /** Verify the SP's signature on AuthnRequests (with the signing certificate of its metadata). */
    wantSignedRequests: false,
    /** Encrypt assertions to the SP's encryption certificate (from its metadata). */
    encryptAssertions: false,
    /** Who is "logged in" at the IdP. */
    email: '',
    /** Applied to every response until reset. */
    overrides: {} as Partial<Omit<IssueOptions, 'email'>> & { unsolicited?: boolean },
    /** Rewrites the signed XML (attacks). */
    tamper: undefined as ((xml: string) => string) | undefined,
    /** What the IdP last posted to the ACS. */
    last: undefined as { SAMLResponse: string; RelayState: string; requestId: string } | undefined,
    requests: 0,
  };

  async function sp(): Promise<Sp> {
    return samlify.ServiceProvider({ metadata: await spMetadata() });
  }

  /** A signed Response (base64), the way samlify signs for an SP that wants signed assertions. */
  async function issue(target: Sp, options: IssueOptions): Promise<string> {
    const audience = options.audience ?? target.entityMeta.getEntityID();
    const acs = target.entityMeta.getAssertionConsumerService('post');
    const idp = makeIdp();
    const result = await idp.createLoginResponse(
      target,
      {},
      'post',
      { email: options.email },
      {
        customTagReplacement: (template: string) => {
          const id = `_${randomBytes(16).toString('hex')}`;
          let xml = samlify.SamlLib.replaceTagsByValue(template, {
            ID: id,
            AssertionID: `_${randomBytes(16).toString('hex')}`,
            Destination: acs,
            Audience: audience,
            SubjectRecipient: acs,
            Issuer: idp.entityMeta.getEntityID(),
            IssueInstant: iso(0),
            StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
            ConditionsNotBefore: iso(options.notBefore ?? -60),
            ConditionsNotOnOrAfter: iso(options.notOnOrAfter ?? 300),
            SubjectConfirmationDataNotOnOrAfter: iso(options.notOnOrAfter ?? 300),
            NameIDFormat: options.nameIdFormat ?? EMAIL_FORMAT,
            NameID: options.nameId ?? options.email,
            InResponseTo: options.inResponseTo ?? '',
            AuthnStatement: '',
            AttributeStatement: '',
          });
          if (options.inResponseTo === null) xml = xml.replace(/ InResponseTo=""/g, '');
          // samlify escapes tag values, so the statement goes in after the replacement.
          xml = xml.replace('</saml:Assertion>', `${attributeStatement(options.attributes)}</saml:Assertion>`);
          return { id, context: xml };
        },
      },
    );
    return result.context;
  }

  /** Answers the AuthnRequest with an auto-posting form to the ACS. */
  async function answer(
    binding: 'redirect' | 'post',
    request: Record<string, string>,
    octetString?: string,
  ): Promise<string> {
    const idp = makeIdp();
    const target = await sp();
    const parsed = await idp.parseLoginRequest(
      target,
      binding,
      binding === 'redirect' ? { query: request, octetString } : { body: request },
    );
    const requestId = (parsed.extract as { request: { id: string } }).request.id;
    state.requests++;
    const { unsolicited, ...overrides } = state.overrides;
    let encoded = await issue(target, {
      email: state.email,
      inResponseTo: unsolicited ? null : requestId,
      ...overrides,
    });
    if (state.tamper) encoded = Buffer.from(state.tamper(Buffer.from(encoded, 'base64').toString())).toString('base64');
    const relayState = request['RelayState'] ?? '';
    state.last = { SAMLResponse: encoded, RelayState: relayState, requestId };
    const acs = target.entityMeta.getAssertionConsumerService('post');
    return `<!DOCTYPE html><html><body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(acs)}"><input type="hidden" name="SAMLResponse" value="${escapeHtml(encoded)}"><input type="hidden" name="RelayState" value="${escapeHtml(relayState)}"></form></body></html>`;
  }

  http.on('request', (req, res) => {
    void (async () => {
      try {
        const at = new URL(req.url ?? '/', url);
        if (at.pathname !== '/sso') {
          res.writeHead(404).end();
          return;
        }
        const html =
          req.method === 'POST'
            ? await answer('post', await readBody(req))
            : await answer(
                'redirect',
                Object.fromEntries(at.searchParams),
                // What the SP signed: the query as sent, without the signature.
                at.search
                  .slice(1)
                  .split('&')
                  .filter((p) => !p.startsWith('Signature='))
                  .join('&'),
              );
        res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      } catch (err) {
        res
          .writeHead(400, { 'content-type': 'text/plain' })
          .end(err instanceof Error ? String(err.stack) : String(err));
      }
    })();
  });

  return {
    url,
    entityId: `${url}/metadata`,
    ssoUrl: `${url}/sso`,
    certificate: signing.bareCert,
    state,
    issue: async (options: IssueOptions) => issue(await sp(), options),
    reset: () => {
      state.overrides = {};
      state.tamper = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => {
          resolve();
        });
      }),
  };
}
