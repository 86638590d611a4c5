import { SetMetadata } from '@nestjs/common';

export const IS_ORGANIZATION_API = 'keyhaven:isOrganizationApi';

/**
 * Marks a route of the public API: it takes an organization's API-key token (scope
 * `api.organization`) and refuses user tokens; every other guarded route refuses organization tokens.
 */
export const OrganizationApi = (): MethodDecorator & ClassDecorator => SetMetadata(IS_ORGANIZATION_API, true);

/** Checks an organization's API credentials; implemented by the admin-console domain. */
export interface OrganizationCredentials {
  /** The credential stamp (changes when the key rotates) when the secret is right, else null. */
  verify(organizationId: string, secret: string): Promise<string | null>;
  /** The current stamp, or null when the organization is gone. */
  stampOf(organizationId: string): Promise<string | null>;
}

export const ORGANIZATION_CREDENTIALS = Symbol('ORGANIZATION_CREDENTIALS');

/** Organization policies the identity service returns at login; implemented by the admin-console domain. */
export interface LoginPolicies {
  /** The combined master password requirements of the user's organizations, or null when none apply. */
  masterPasswordPolicy(userId: string): Promise<Record<string, unknown> | null>;
  /**
   * Whether a Require SSO policy forbids this user a password login: null when not, else the
   * organization identifier to send the client to (null when it is not one unambiguous organization).
   */
  ssoRequired(userId: string): Promise<{ organizationIdentifier: string | null } | null>;
}

export const LOGIN_POLICIES = Symbol('LOGIN_POLICIES');
