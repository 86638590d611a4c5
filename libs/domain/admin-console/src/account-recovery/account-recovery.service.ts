import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, badRequest, isWellFormedEncString, notFound } from '@keyhaven/contracts';
import {
  AccountsService,
  AdminPasswordResetService,
  UserRepository,
  hasMasterPasswordOf,
  kdfOf,
  newMasterPasswordFields,
  normalizeEmail,
  resolveNewMasterPassword,
  type User,
} from '@keyhaven/domain-auth';
import { MemberStatus, PolicyType } from '../enums';
import { MemberRepository } from '../member.repository';
import type { Membership } from '../membership';
import { OrganizationRepository } from '../organization.repository';
import { PoliciesService } from '../policies.service';
import { SsoConfigRepository } from '../sso/sso-config.repository';
import { PolicyRepository } from '../policy.repository';
import { AccountRecoveryMail } from './account-recovery-mail';
import { NOT_PERMITTED, mayRecover } from './recovery-rules';

const rsaKey = z
  .string()
  .max(10_000)
  .refine((v) => isWellFormedEncString(v) && /^[346]\./.test(v), { message: 'must be an RSA-encrypted key' });

export const enrollmentSchema = z.object({
  // Empty or null withdraws.
  resetPasswordKey: z.union([rsaKey, z.literal('')]).nullish(),
  masterPasswordHash: z.string().max(1000).nullish(),
});

/** `recover-account` (2026) and the legacy `reset-password`: a new password, two-step reset, or both. */
export const recoverAccountSchema = z.object({
  resetMasterPassword: z.boolean().nullish(),
  resetTwoFactor: z.boolean().nullish(),
  ...newMasterPasswordFields,
});

/**
 * Account recovery (admin password reset): members enrol by wrapping their user key to the
 * organization's public key; an admin's client later unwraps it with the organization's private
 * key and sets a new master password for the member, who must then choose their own.
 */
@Injectable()
export class AccountRecoveryService {
  constructor(
    private readonly db: Database,
    private readonly events: EventRecorder,
    private readonly members: MemberRepository,
    private readonly organizations: OrganizationRepository,
    private readonly policies: PolicyRepository,
    private readonly policiesService: PoliciesService,
    private readonly users: UserRepository,
    private readonly accounts: AccountsService,
    private readonly reset: AdminPasswordResetService,
    private readonly mail: AccountRecoveryMail,
    private readonly ssoConfigs: SsoConfigRepository,
  ) {}

  /** The Account Recovery policy's state: enabled, and whether members are enrolled automatically. */
  async policy(organizationId: string): Promise<{ enabled: boolean; autoEnroll: boolean }> {
    const policy = await this.policies.find(organizationId, PolicyType.ResetPassword);
    return {
      enabled: policy?.enabled === true,
      autoEnroll: policy?.enabled === true && policy.data?.['autoEnrollEnabled'] === true,
    };
  }

  /** `PUT …/users/{userId}/reset-password-enrollment`: the path names the user, who must be the caller. */
  async enroll(actor: Membership, userId: string, body: z.infer<typeof enrollmentSchema>): Promise<void> {
    if (userId !== actor.userId) throw notFound('Member');
    const key = body.resetPasswordKey ? body.resetPasswordKey : null;
    const policy = await this.policy(actor.organizationId);
    if (key) {
      if (!policy.enabled) throw badRequest('Organization does not have the password reset policy enabled.');
      if (!(await this.enrolsWithoutPassword(actor.organizationId, userId)))
        await this.accounts.verifyMasterPassword(userId, body.masterPasswordHash);
    } else if (policy.autoEnroll) {
      throw badRequest("Reset password can't be withdrawn due to an enterprise policy.");
    }
    await this.db.transaction(async () => {
      // An SSO-provisioned member still Invited (trusted-device orgs) is accepted by enrolling (ENTERPRISE.md §1.8).
      const accept = key !== null && actor.status === MemberStatus.Invited;
      await this.members.update(actor.organizationId, actor.id, {
        reset_password_key: key,
        ...(accept ? { status: MemberStatus.Accepted } : {}),
      });
      await this.events.record({
        type: key ? EventType.OrganizationUser_ResetPassword_Enroll : EventType.OrganizationUser_ResetPassword_Withdraw,
        organizationId: actor.organizationId,
        organizationUserId: actor.id,
      });
    });
  }

  /**
   * A trusted-device organization's member without a master password (ENTERPRISE.md §3.1) has
   * nothing to verify: its client enrols right after posting its first keys, with a null hash.
   * Bitwarden skips the check for every enrolment into an enabled TDE organization; Keyhaven keeps
   * it for anyone who has a master password, so a stolen session alone cannot enrol them.
   */
  private async enrolsWithoutPassword(organizationId: string, userId: string): Promise<boolean> {
    const user = await this.users.require(userId);
    if (hasMasterPasswordOf(user)) return false;
    return this.ssoConfigs.usesTrustedDevices(organizationId);
  }

  /**
   * Accepting an invitation: with automatic enrolment on, the client must send the wrapped key
   * (checked before anything is written); it is stored with the acceptance.
   */
  async keyForAcceptance(organizationId: string, resetPasswordKey: string | null | undefined): Promise<string | null> {
    const policy = await this.policy(organizationId);
    if (!policy.autoEnroll) return null;
    if (!resetPasswordKey) throw badRequest('Master Password reset is required, but not provided.');
    if (!rsaKey.safeParse(resetPasswordKey).success)
      throw badRequest('resetPasswordKey must be an RSA-encrypted key.', {
        resetPasswordKey: ['must be an RSA-encrypted key'],
      });
    return resetPasswordKey;
  }

  /** What the admin's client needs: the member's KDF, salt and wrapped key, and the org's private key. */
  async details(actor: Membership, memberIds: string[]): Promise<Record<string, unknown>[]> {
    const targets = await this.recoverable(actor, memberIds);
    const org = await this.organizations.findById(actor.organizationId);
    return targets.map(({ member, user }) => {
      const kdf = kdfOf(user);
      return {
        organizationUserId: member.id,
        kdf: kdf.kdf,
        kdfIterations: kdf.iterations,
        kdfMemory: kdf.memory,
        kdfParallelism: kdf.parallelism,
        masterPasswordSalt: normalizeEmail(user.email),
        resetPasswordKey: member.resetPasswordKey,
        encryptedPrivateKey: org?.privateKey ?? null,
        object: 'organizationUserResetPasswordDetails',
      };
    });
  }

  /** `recover-account`: a new master password (forced to change at next login), a two-step reset, or both. */
  async recover(actor: Membership, memberId: string, body: z.infer<typeof recoverAccountSchema>): Promise<void> {
    const [target] = await this.recoverable(actor, [memberId]);
    if (!target) throw badRequest(NOT_PERMITTED);
    const { user, member } = target;
    const legacy = (body.resetMasterPassword ?? null) === null && (body.resetTwoFactor ?? null) === null;
    const resetPassword = legacy || body.resetMasterPassword === true;
    const resetTwoFactor = body.resetTwoFactor === true;
    if (!resetPassword && !resetTwoFactor) throw badRequest('Nothing to reset.');
    const password = resetPassword ? resolveNewMasterPassword(user, body) : null;
    await this.db.transaction(async () => {
      await this.reset.apply(user.id, { password, forcePasswordReset: resetPassword, resetTwoFactor });
      const event = { organizationId: actor.organizationId, organizationUserId: member.id };
      await this.events.record([
        ...(resetPassword ? [{ ...event, type: EventType.OrganizationUser_AdminResetPassword }] : []),
        ...(resetTwoFactor ? [{ ...event, type: EventType.OrganizationUser_AdminResetTwoFactor }] : []),
      ]);
    });
    this.reset.loggedOut(user.id);
    // Organizations that require two-step login revoke a member who no longer has it.
    if (resetTwoFactor) await this.policiesService.onTwoFactorDisabled(user.id, user.email);
    await this.mail.reset(user.email, actor.organizationId, resetPassword, resetTwoFactor);
  }

  /**
   * The members the actor may recover, each with its account: the recovery policy is on, the member
   * is confirmed and enrolled, and the role rules allow it. Anything else refuses the whole call
   * with 400 (a 403 would log the admin's client out).
   */
  private async recoverable(actor: Membership, memberIds: string[]): Promise<{ member: Membership; user: User }[]> {
    if (!(await this.policy(actor.organizationId)).enabled)
      throw badRequest('Organization does not have the password reset policy enabled.');
    const members = await this.members.findManyInOrg(actor.organizationId, memberIds);
    if (members.length !== new Set(memberIds).size) throw badRequest(NOT_PERMITTED);
    const result: { member: Membership; user: User }[] = [];
    const users = new Map(
      (await this.users.findManyByIds(members.flatMap((m) => (m.userId ? [m.userId] : [])))).map((u) => [u.id, u]),
    );
    members.forEach((member) => {
      const user = member.userId ? users.get(member.userId) : undefined;
      if (!mayRecover(actor, member)) throw badRequest(NOT_PERMITTED);
      if (member.status !== MemberStatus.Confirmed || !member.resetPasswordKey || !user)
        throw badRequest('Organization User not valid.');
      result.push({ member, user });
    });
    return result;
  }
}
