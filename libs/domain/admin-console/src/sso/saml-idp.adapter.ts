import { X509Certificate, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { SAML, ValidateInResponseTo, type SamlConfig } from '@node-saml/node-saml';
import { XMLParser } from 'fast-xml-parser';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { emailOf, groupsOf, nameOf, subjectOf } from './claims';
import {
  IdpError,
  type IdpAdapter,
  type IdpBeginResult,
  type IdpCallbackRequest,
  type IdpFlow,
  type NormalizedClaims,
} from './idp-adapter';
import { autoPostForm } from './oidc-idp.adapter';
import { SamlRequestCache } from './saml-request-cache';
import { SamlSpKey } from './saml-sp-key';
import { MemberDecryptionType, SsoConfigType, spEntityIdOf, type SsoConfig, type SsoConfigData } from './sso-config';
import { SsoPendingRepository } from './sso-pending.repository';

/** `spNameIdFormat` (ENTERPRISE.md §2.2) → the NameIDPolicy Format URI; 0 (NotConfigured) sends none. */
const NAME_ID_FORMATS: Readonly<Record<number, string>> = {
  1: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  2: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  3: 'urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName',
  4: 'urn:oasis:names:tc:SAML:1.1:nameid-format:WindowsDomainQualifiedName',
  5: 'urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos',
  6: 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity',
  7: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  8: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
};
const TRANSIENT = NAME_ID_FORMATS[8];

/** Strength order of the XML-DSig RSA algorithms, for `spMinIncomingSigningAlgorithm`. */
const ALGORITHM_STRENGTH: Readonly<Record<string, number>> = {
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1': 1,
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': 2,
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': 3,
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': 4,
};
const DEFAULT_MIN_ALGORITHM = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

/** `spOutboundSigningAlgorithm` → node-saml's name; node-saml signs with RSA-SHA1, -SHA256 and -SHA512 only. */
const OUTBOUND_ALGORITHMS: Readonly<Record<string, 'sha1' | 'sha256' | 'sha512'>> = {
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1': 'sha1',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': 'sha512',
};

/** The IdP's clock may be a little off; Sustainsys (Bitwarden's SP) allows more, this is enough. */
const CLOCK_SKEW_MS = 60_000;

const MISCONFIGURED = 'Single sign-on is not set up correctly for this organization.';
const REFUSED = 'The identity provider\u2019s answer could not be verified.';

/** `idpX509PublicCert`: stored as base64 DER, but admins paste PEM too; armour and whitespace go. */
export function bareCertificate(value: string | null | undefined): string {
  return (value ?? '').replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

/**
 * SAML 2.0 towards the organization's IdP with @node-saml/node-saml, Keyhaven being the service
 * provider (ENTERPRISE.md §1.4): AuthnRequest by HTTP-Redirect or HTTP-POST with `RelayState` = the
 * flow id, the request id kept in `sso_pending` (never in the process) and accepted once, responses
 * by HTTP-POST at the ACS only (artifact refused), signature of the response or the assertion (the
 * assertion when `spWantAssertionsSigned`) with the configured IdP certificate, issuer, audience
 * (the chosen SP entity id), destination, time conditions, minimum signing algorithm.
 */
@Injectable()
export class SamlIdpAdapter implements IdpAdapter {
  readonly type = SsoConfigType.Saml2;

  constructor(
    private readonly pending: SsoPendingRepository,
    private readonly spKey: SamlSpKey,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** `{DOMAIN}/sso/saml2/{orgId}/Acs`, as `urls.spAcsUrl` advertises it. */
  acsUrl(organizationId: string): string {
    return `${this.config.DOMAIN}/sso/saml2/${organizationId}/Acs`;
  }

  spEntityId(config: SsoConfig): string {
    return spEntityIdOf(`${this.config.DOMAIN}/sso`, config);
  }

  validate(config: SsoConfig): Promise<void> {
    this.certificateOf(config);
    this.outboundAlgorithm(config);
    return Promise.resolve();
  }

  async beginLogin(config: SsoConfig, flow: Omit<IdpFlow, 'adapterState'>): Promise<IdpBeginResult> {
    const entryPoint = config.data.idpSingleSignOnServiceUrl;
    if (!entryPoint || !config.data.idpEntityId) {
      throw new IdpError(
        MISCONFIGURED,
        'SAML configuration lacks the IdP entity id or single sign-on URL',
        'misconfigured',
      );
    }
    if (entryPoint.startsWith('http:') && !this.config.SSO_ALLOW_HTTP_IDP) {
      throw new IdpError(
        MISCONFIGURED,
        'SAML single sign-on URL uses http:// (SSO_ALLOW_HTTP_IDP is off)',
        'misconfigured',
      );
    }
    // An NCName (starts with a letter or underscore), unguessable; the IdP echoes it as InResponseTo.
    const requestId = `_${randomBytes(20).toString('hex')}`;
    const saml = await this.saml(config, new SamlRequestCache(this.pending, this.ttlMs()), requestId);
    try {
      if (config.data.idpBindingType === 2) {
        const fields = await saml.getAuthorizeMessageAsync(flow.id, undefined, {});
        const form = new URLSearchParams();
        for (const [key, value] of Object.entries(fields)) if (typeof value === 'string') form.set(key, value);
        return { handOff: { kind: 'html', html: autoPostForm(entryPoint, form) }, adapterState: { requestId } };
      }
      const url = await saml.getAuthorizeUrlAsync(flow.id, undefined, {});
      return { handOff: { kind: 'redirect', url }, adapterState: { requestId } };
    } catch (err) {
      throw new IdpError(MISCONFIGURED, `SAML AuthnRequest could not be built: ${messageOf(err)}`, 'misconfigured');
    }
  }

  async completeLogin(config: SsoConfig, request: IdpCallbackRequest, flow: IdpFlow): Promise<NormalizedClaims> {
    if (request.body['SAMLart'] !== undefined || request.query['SAMLart'] !== undefined) {
      throw new IdpError(REFUSED, 'SAML artifact binding is not supported (SAMLart received)');
    }
    const acs = this.acsUrl(config.organizationId);
    if (request.method !== 'POST' || request.url !== acs) {
      throw new IdpError(REFUSED, `SAML response not posted to this organization's ACS (${request.url.slice(0, 200)})`);
    }
    const encoded = request.body['SAMLResponse'];
    if (!encoded) throw new IdpError(REFUSED, 'SAML ACS received no SAMLResponse');
    const xml = Buffer.from(encoded, 'base64').toString('utf8');
    this.checkEnvelope(config, xml, acs);
    const requestId = typeof flow.adapterState['requestId'] === 'string' ? flow.adapterState['requestId'] : null;
    const saml = await this.saml(config, new SamlRequestCache(this.pending, this.ttlMs(), requestId));
    let profile: Record<string, unknown>;
    try {
      const result = await saml.validatePostResponseAsync({ SAMLResponse: encoded });
      if (!result.profile) throw new Error('no assertion (logout or NoPassive response)');
      profile = result.profile;
    } catch (err) {
      throw new IdpError(REFUSED, `SAML response refused: ${messageOf(err)}`);
    }
    const claims: Record<string, unknown> = { ...asRecord(profile['attributes']) };
    const nameId = typeof profile['nameID'] === 'string' ? profile['nameID'] : null;
    // A transient NameID changes at every login: never a provider user id (§1.5).
    if (nameId && profile['nameIDFormat'] !== TRANSIENT) claims['nameidentifier'] = nameId;
    const subject = subjectOf(claims, config.data.additionalUserIdClaimTypes);
    if (!subject)
      throw new IdpError(
        'The identity provider did not say who signed in.',
        'SAML assertion has no usable NameID or user id attribute',
      );
    return {
      subject,
      email: emailOf(claims, config.data.additionalEmailClaimTypes, subject),
      name: nameOf(claims, config.data.additionalNameClaimTypes),
      groups: groupsOf(claims, config.data.groupsClaimType),
    };
  }

  /**
   * SP metadata (`urls.spMetadataUrl`): entity id, ACS (HTTP-POST), NameID format, wanted signing.
   * Served before SAML is configured too (the admin registers Keyhaven at the IdP first), with the
   * web form's defaults (per-organization entity id).
   */
  async metadata(organizationId: string, data: SsoConfigData | null): Promise<string> {
    const config: SsoConfig = {
      id: '',
      organizationId,
      enabled: false,
      type: SsoConfigType.Saml2,
      memberDecryptionType: MemberDecryptionType.MasterPassword,
      data: data ?? { configType: SsoConfigType.Saml2 },
      revisionDate: new Date(),
    };
    const format = NAME_ID_FORMATS[config.data.spNameIdFormat ?? 0];
    const sp = await this.spKey.get();
    const saml = new SAML({
      ...(await this.options(config)),
      // The metadata names no IdP certificate; node-saml's constructor wants one all the same.
      idpCert: 'unused',
    });
    // Encryption key always (an IdP may encrypt assertions); signing key when requests are signed.
    return saml.generateServiceProviderMetadata(sp.cert, this.signsRequests(config) ? sp.cert : null).replace(
      // node-saml always writes a NameIDFormat; with none configured, say what Keyhaven accepts.
      /<NameIDFormat>[^<]*<\/NameIDFormat>/,
      `<NameIDFormat>${format ?? NAME_ID_FORMATS[1]}</NameIDFormat>`,
    );
  }

  /** Whether a posted SAMLResponse answers no request (no `InResponseTo`): IdP-initiated. */
  isUnsolicited(encoded: string): boolean {
    try {
      const parsed = new XMLParser({ ignoreAttributes: false, removeNSPrefix: true, processEntities: false }).parse(
        Buffer.from(encoded, 'base64').toString('utf8'),
      ) as Record<string, unknown>;
      const root = asRecord(parsed['Response']);
      return Object.keys(root).length > 0 && root['@_InResponseTo'] === undefined;
    } catch {
      return false;
    }
  }

  /**
   * What node-saml does not check: the Response's Destination must be this ACS, and every signature
   * must use at least the configured minimum algorithm (rsa-sha256 unless set).
   */
  private checkEnvelope(config: SsoConfig, xml: string, acs: string): void {
    let root: Record<string, unknown>;
    try {
      const parsed = new XMLParser({ ignoreAttributes: false, removeNSPrefix: true, processEntities: false }).parse(
        xml,
      ) as Record<string, unknown>;
      root = asRecord(parsed['Response']);
    } catch (err) {
      throw new IdpError(REFUSED, `SAML response is not XML: ${messageOf(err)}`);
    }
    const destination = root['@_Destination'];
    if (destination !== undefined && (typeof destination !== 'string' || destination !== acs)) {
      throw new IdpError(
        REFUSED,
        `SAML response Destination ${typeof destination === 'string' ? destination.slice(0, 200) : '(not text)'} is not this ACS ${acs}`,
      );
    }
    const minimum = ALGORITHM_STRENGTH[config.data.spMinIncomingSigningAlgorithm || DEFAULT_MIN_ALGORITHM] ?? 2;
    for (const [, algorithm] of xml.matchAll(/SignatureMethod[^>]*?Algorithm\s*=\s*["']([^"']+)["']/g)) {
      if ((ALGORITHM_STRENGTH[algorithm ?? ''] ?? 0) < minimum) {
        throw new IdpError(
          REFUSED,
          `SAML signature algorithm ${String(algorithm).slice(0, 100)} is below the configured minimum`,
        );
      }
    }
  }

  private async saml(config: SsoConfig, cache: SamlRequestCache, requestId?: string): Promise<SAML> {
    return new SAML({
      ...(await this.options(config)),
      idpCert: this.certificateOf(config),
      cacheProvider: cache,
      ...(requestId ? { generateUniqueId: () => requestId } : {}),
    });
  }

  private async options(config: SsoConfig): Promise<Omit<SamlConfig, 'idpCert'>> {
    const data = config.data;
    const sp = await this.spKey.get();
    const algorithm = this.outboundAlgorithm(config);
    const format = NAME_ID_FORMATS[data.spNameIdFormat ?? 0] ?? null;
    const entityId = this.spEntityId(config);
    return {
      callbackUrl: this.acsUrl(config.organizationId),
      issuer: entityId,
      audience: entityId,
      entryPoint: data.idpSingleSignOnServiceUrl ?? undefined,
      idpIssuer: data.idpEntityId ?? undefined,
      authnRequestBinding: data.idpBindingType === 2 ? 'HTTP-POST' : 'HTTP-Redirect',
      // HTTP-POST carries the request base64 only (DEFLATE is the Redirect binding's); node-saml would deflate both.
      skipRequestCompression: data.idpBindingType === 2,
      identifierFormat: format,
      allowCreate: format !== TRANSIENT,
      disableRequestedAuthnContext: true,
      // Either the Response or the Assertion must carry a valid signature; the Assertion when asked.
      wantAuthnResponseSigned: false,
      wantAssertionsSigned: data.spWantAssertionsSigned === true,
      validateInResponseTo: data.idpAllowUnsolicitedAuthnResponse
        ? ValidateInResponseTo.ifPresent
        : ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: this.ttlMs(),
      acceptedClockSkewMs: CLOCK_SKEW_MS,
      decryptionPvk: sp.key,
      ...(this.signsRequests(config)
        ? { privateKey: sp.key, signatureAlgorithm: algorithm, digestAlgorithm: algorithm }
        : {}),
    };
  }

  private certificateOf(config: SsoConfig): string {
    const bare = bareCertificate(config.data.idpX509PublicCert);
    if (!bare) throw new IdpError(MISCONFIGURED, 'SAML configuration has no IdP X.509 certificate', 'misconfigured');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(bare, 'base64'));
    } catch {
      throw new IdpError(MISCONFIGURED, 'The IdP X.509 certificate does not parse', 'misconfigured');
    }
    if (config.data.spValidateCertificates && Date.parse(cert.validTo) < Date.now()) {
      throw new IdpError(MISCONFIGURED, `The IdP X.509 certificate expired on ${cert.validTo}`, 'misconfigured');
    }
    return bare;
  }

  /** `spSigningBehavior` 1 (always), or 0 (the default) when the IdP says it wants signed requests; 3 never. */
  private signsRequests(config: SsoConfig): boolean {
    const behavior = config.data.spSigningBehavior ?? 0;
    return behavior === 1 || (behavior === 0 && config.data.idpWantAuthnRequestsSigned === true);
  }

  private outboundAlgorithm(config: SsoConfig): 'sha1' | 'sha256' | 'sha512' {
    const configured = config.data.spOutboundSigningAlgorithm;
    if (!configured) return 'sha256';
    const algorithm = OUTBOUND_ALGORITHMS[configured];
    if (!algorithm) {
      throw new IdpError(
        MISCONFIGURED,
        `SP outbound signing algorithm ${configured.slice(0, 100)} is not supported; choose RSA-SHA256 or RSA-SHA512`,
        'misconfigured',
      );
    }
    return algorithm;
  }

  private ttlMs(): number {
    return this.config.SSO_FLOW_TTL_SECONDS * 1000;
  }
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** node-saml's and the parser's messages name elements and values, never keys. */
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 300);
