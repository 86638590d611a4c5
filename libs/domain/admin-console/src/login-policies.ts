import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import type { LoginPolicies } from '@keyhaven/platform-auth';
import { MemberType, PolicyType } from './enums';
import { PolicyRepository } from './policy.repository';

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const flag = (v: unknown): boolean => v === true;

/** Several organizations' master password policies combine to the strictest of each requirement. */
@Injectable()
export class LoginPoliciesService implements LoginPolicies {
  constructor(
    private readonly policies: PolicyRepository,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  async masterPasswordPolicy(userId: string): Promise<Record<string, unknown> | null> {
    const applicable = (await this.policies.enabledForUser(userId)).filter((p) => p.type === PolicyType.MasterPassword);
    if (applicable.length === 0) return null;
    const data = applicable.map((p) => p.data ?? {});
    return {
      MinComplexity: Math.max(...data.map((d) => num(d['minComplexity']))),
      MinLength: Math.max(...data.map((d) => num(d['minLength']))),
      RequireUpper: data.some((d) => flag(d['requireUpper'])),
      RequireLower: data.some((d) => flag(d['requireLower'])),
      RequireNumbers: data.some((d) => flag(d['requireNumbers'])),
      RequireSpecial: data.some((d) => flag(d['requireSpecial'])),
      EnforceOnLogin: data.some((d) => flag(d['enforceOnLogin'])),
      Object: 'masterPasswordPolicy',
    };
  }

  /**
   * Require SSO (policy 4) on a password login, as Bitwarden's SsoRequestValidator: confirmed members
   * of an organization with the policy must sign in through SSO. Owners and admins are exempt unless
   * the policy's `enforceForAllUsers` says otherwise (Bitwarden's instance-wide
   * EnforceSsoPolicyForAllUsers, per organization here); even then owners keep their password
   * (break-glass for a broken IdP) unless the operator set `SSO_OWNERS_PASSWORD_LOGIN=false`.
   */
  async ssoRequired(userId: string): Promise<{ organizationIdentifier: string | null } | null> {
    const requiring = (await this.policies.requireSsoMemberships(userId)).filter((m) => {
      const forAll = m.data?.['enforceForAllUsers'] === true;
      if (m.memberType === MemberType.Owner) return forAll && !this.config.SSO_OWNERS_PASSWORD_LOGIN;
      if (m.memberType === MemberType.Admin) return forAll;
      return true;
    });
    if (requiring.length === 0) return null;
    // The client starts SSO with this identifier; with several organizations it cannot know which.
    const identifiers = new Set(requiring.map((m) => m.identifier));
    const [only] = identifiers;
    return { organizationIdentifier: identifiers.size === 1 && only ? only : null };
  }
}
