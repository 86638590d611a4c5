import { z } from 'zod';

/** `configType`: how the organization's IdP is spoken to (0 is the admin page's "none"). */
export enum SsoConfigType {
  None = 0,
  OpenIdConnect = 1,
  Saml2 = 2,
}

/** `memberDecryptionType`: how members unlock after an SSO login. */
export enum MemberDecryptionType {
  MasterPassword = 0,
  KeyConnector = 1,
  TrustedDeviceEncryption = 2,
}

/** A stored or requested number as its enum member (anything unknown: none / master password). */
export const configTypeOf = (n: number): SsoConfigType =>
  n === 1 ? SsoConfigType.OpenIdConnect : n === 2 ? SsoConfigType.Saml2 : SsoConfigType.None;
export const decryptionTypeOf = (n: number | null | undefined): MemberDecryptionType =>
  n === 1
    ? MemberDecryptionType.KeyConnector
    : n === 2
      ? MemberDecryptionType.TrustedDeviceEncryption
      : MemberDecryptionType.MasterPassword;

/** The fields stored encrypted with a server key; every other field is stored as plain JSON. */
export const SSO_SECRET_FIELDS = ['clientSecret'] as const;

const text = (max: number) => z.string().max(max).nullish();
const flag = z.boolean().nullish();
const small = z.number().int().min(0).max(100).nullish();
/** `http(s)://` only, and none of the characters that would break out of an HTML attribute. */
const httpUrl = z
  .string()
  .max(2000)
  .regex(/^https?:\/\/[^<>"\s]+$/, 'Must be an http:// or https:// address.');
const optionalUrl = z.union([httpUrl, z.literal('')]).nullish();

/**
 * `SsoConfigurationData` as the admin console sends it (ENTERPRISE.md §2.2), OIDC and SAML fields in
 * one shape; the web sends only the block of the chosen type. Unknown fields are dropped.
 */
export const ssoConfigDataSchema = z.object({
  configType: z.number().int().min(0).max(2),
  memberDecryptionType: z.number().int().min(0).max(2).nullish(),
  /** Legacy write-only switch: true means memberDecryptionType 1. */
  keyConnectorEnabled: flag,
  keyConnectorUrl: optionalUrl,
  // OpenID Connect
  authority: text(2000),
  clientId: text(500),
  clientSecret: text(2000),
  metadataAddress: optionalUrl,
  redirectBehavior: small,
  getClaimsFromUserInfoEndpoint: flag,
  additionalScopes: text(1000),
  additionalUserIdClaimTypes: text(1000),
  additionalEmailClaimTypes: text(1000),
  additionalNameClaimTypes: text(1000),
  acrValues: text(1000),
  expectedReturnAcrValue: text(1000),
  /** Keyhaven's addition: the claim whose values map to organization groups (for example `groups`). */
  groupsClaimType: text(200),
  /**
   * Keyhaven's addition: values of the groups claim (comma-separated) that make a member Admin. With it
   * set, the role follows the directory at every login: such a value makes a User or Custom member
   * Admin, its absence makes an Admin a User again. Owners are never changed by the IdP.
   */
  adminClaimValues: text(1000),
  /** Keyhaven's addition: how the IdP returns the code, `form_post` (default, as Bitwarden) or `query`. */
  responseMode: z.enum(['form_post', 'query']).nullish(),
  // SAML 2.0 service provider
  spUniqueEntityId: flag,
  spNameIdFormat: small,
  spOutboundSigningAlgorithm: text(200),
  spSigningBehavior: small,
  spMinIncomingSigningAlgorithm: text(200),
  spWantAssertionsSigned: flag,
  spValidateCertificates: flag,
  // SAML 2.0 identity provider
  idpEntityId: text(2000),
  idpBindingType: small,
  idpSingleSignOnServiceUrl: optionalUrl,
  idpSingleLogoutServiceUrl: optionalUrl,
  idpX509PublicCert: text(20000),
  idpOutboundSigningAlgorithm: text(200),
  idpAllowUnsolicitedAuthnResponse: flag,
  idpDisableOutboundLogoutRequests: flag,
  idpWantAuthnRequestsSigned: flag,
  idpArtifactResolutionServiceUrl: text(0),
});
export type SsoConfigData = z.infer<typeof ssoConfigDataSchema>;

/** `POST api/organizations/{id}/sso`. */
export const ssoConfigRequestSchema = z.object({
  enabled: z.boolean(),
  identifier: z.string().trim().max(50).nullish(),
  data: ssoConfigDataSchema,
});
export type SsoConfigRequest = z.infer<typeof ssoConfigRequestSchema>;

/** One organization's configuration as the SSO flow and the adapters read it (secrets decrypted). */
export interface SsoConfig {
  readonly id: string;
  readonly organizationId: string;
  readonly enabled: boolean;
  readonly type: SsoConfigType;
  readonly memberDecryptionType: MemberDecryptionType;
  /** Every field of §2.2, `clientSecret` included (decrypted). */
  readonly data: SsoConfigData;
  readonly revisionDate: Date;
}

/**
 * The addresses an admin copies into the IdP (§2.1 `urls`); every one is served exactly as written
 * here. `ssoBase` is `{DOMAIN}/sso`.
 */
export function ssoUrls(ssoBase: string, organizationId: string): Record<string, string> {
  return {
    callbackPath: `${ssoBase}/oidc-signin`,
    signedOutCallbackPath: `${ssoBase}/oidc-signedout`,
    spEntityId: `${ssoBase}/saml2/${organizationId}`,
    spEntityIdStatic: `${ssoBase}/saml2`,
    spMetadataUrl: `${ssoBase}/saml2/${organizationId}`,
    spAcsUrl: `${ssoBase}/saml2/${organizationId}/Acs`,
  };
}

/** The SAML SP entity id the IdP must put in the Audience: per organization unless turned off. */
export function spEntityIdOf(ssoBase: string, config: SsoConfig): string {
  return config.data.spUniqueEntityId === false ? `${ssoBase}/saml2` : `${ssoBase}/saml2/${config.organizationId}`;
}
