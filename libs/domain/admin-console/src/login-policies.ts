import { Injectable } from '@nestjs/common';
import type { LoginPolicies } from '@keyhaven/platform-auth';
import { PolicyType } from './enums';
import { PolicyRepository } from './policy.repository';

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const flag = (v: unknown): boolean => v === true;

/** Several organizations' master password policies combine to the strictest of each requirement. */
@Injectable()
export class LoginPoliciesService implements LoginPolicies {
  constructor(private readonly policies: PolicyRepository) {}

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
}
