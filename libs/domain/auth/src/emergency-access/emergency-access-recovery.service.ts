import { Inject, Injectable, Optional } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { AdminPasswordResetService } from '../accounts/admin-password-reset.service';
import { resolveNewMasterPassword, type NewMasterPasswordBody } from '../accounts/new-master-password';
import { kdfOf, normalizeEmail } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { EmergencyAccessStatus as Status, EmergencyAccessType as Type, type EmergencyAccess } from './emergency-access';
import { emergencyMail } from './emergency-access-mail';
import { EmergencyAccessRepository } from './emergency-access.repository';
import { EmergencyAccessService, notValid } from './emergency-access.service';

/**
 * What a takeover must change outside this domain: the grantor leaves every organization they do
 * not own (Bitwarden does the same). The admin console provides it; without it (a service that does
 * not mount organizations) nothing is removed.
 */
export interface TakeoverMemberships {
  removeFromOrganizationsNotOwned(userId: string): Promise<void>;
}
export const TAKEOVER_MEMBERSHIPS = Symbol('TAKEOVER_MEMBERSHIPS');

/** The recovery half: initiate, approve or reject, then view or take over once approved. */
@Injectable()
export class EmergencyAccessRecoveryService {
  constructor(
    private readonly db: Database,
    private readonly grants: EmergencyAccessRepository,
    private readonly users: UserRepository,
    private readonly setup: EmergencyAccessService,
    private readonly reset: AdminPasswordResetService,
    @Optional() @Inject(TAKEOVER_MEMBERSHIPS) private readonly memberships: TakeoverMemberships | null,
  ) {}

  async initiate(granteeId: string, id: string): Promise<void> {
    const grant = await this.setup.requireAs('grantee', granteeId, id);
    if (grant.status !== Status.Confirmed) throw notValid();
    const now = new Date();
    const patch = { status: Status.RecoveryInitiated, recovery_initiated_date: now, last_notification_date: now };
    if (!(await this.grants.update(id, patch, [Status.Confirmed]))) throw notValid();
    const [grantor, grantee] = await Promise.all([this.users.require(grant.grantorId), this.users.require(granteeId)]);
    await this.setup.mail(emergencyMail.initiated(grantor.email, grantee.email, grant.type, grant.waitTimeDays));
  }

  async approve(grantorId: string, id: string): Promise<void> {
    const grant = await this.setup.requireAs('grantor', grantorId, id);
    if (grant.status !== Status.RecoveryInitiated) throw notValid();
    if (!(await this.grants.update(id, { status: Status.RecoveryApproved }, [Status.RecoveryInitiated])))
      throw notValid();
    await this.mailGrantee(grant, 'approved');
  }

  async reject(grantorId: string, id: string): Promise<void> {
    const grant = await this.setup.requireAs('grantor', grantorId, id);
    const from = [Status.RecoveryInitiated, Status.RecoveryApproved];
    if (!(from as number[]).includes(grant.status)) throw notValid();
    if (!(await this.grants.update(id, { status: Status.Confirmed }, from))) throw notValid();
    await this.mailGrantee(grant, 'rejected');
  }

  /** An approved View grant: the caller then reads the grantor's personal items. */
  async requireViewable(granteeId: string, id: string): Promise<EmergencyAccess> {
    return this.requireApproved(granteeId, id, Type.View);
  }

  /** What the contact's client needs to set a new password: the wrapped key and the grantor's KDF and salt. */
  async takeover(granteeId: string, id: string): Promise<Record<string, unknown>> {
    const grant = await this.requireApproved(granteeId, id, Type.Takeover);
    const grantor = await this.users.require(grant.grantorId);
    const kdf = kdfOf(grantor);
    return {
      keyEncrypted: grant.keyEncrypted,
      kdf: kdf.kdf,
      kdfIterations: kdf.iterations,
      kdfMemory: kdf.memory,
      kdfParallelism: kdf.parallelism,
      salt: normalizeEmail(grantor.email),
      object: 'emergencyAccessTakeover',
    };
  }

  /**
   * The contact sets the grantor's new master password: every session of the grantor ends, two-step
   * login is turned off, the hint cleared, and the grantor leaves the organizations they do not own.
   */
  async password(granteeId: string, id: string, body: NewMasterPasswordBody): Promise<void> {
    const grant = await this.requireApproved(granteeId, id, Type.Takeover);
    const grantor = await this.users.require(grant.grantorId);
    const password = resolveNewMasterPassword(grantor, body);
    await this.db.transaction(async () => {
      await this.reset.apply(grantor.id, {
        password,
        forcePasswordReset: false,
        resetTwoFactor: true,
        disableDeviceVerification: true,
      });
      await this.memberships?.removeFromOrganizationsNotOwned(grantor.id);
    });
    this.reset.loggedOut(grantor.id);
  }

  /** The grantor's organizations' policies a new password must meet; null when they own none. */
  async policies(granteeId: string, id: string): Promise<Record<string, unknown>[] | null> {
    const grant = await this.requireApproved(granteeId, id, Type.Takeover);
    return this.grants.policiesOfOwnedOrganizations(grant.grantorId);
  }

  private async requireApproved(granteeId: string, id: string, type: number): Promise<EmergencyAccess> {
    const grant = await this.setup.requireAs('grantee', granteeId, id);
    if (grant.status !== Status.RecoveryApproved || grant.type !== type) throw notValid();
    return grant;
  }

  private async mailGrantee(grant: EmergencyAccess, what: 'approved' | 'rejected'): Promise<void> {
    if (!grant.granteeId) return;
    const [grantor, grantee] = await Promise.all([
      this.users.require(grant.grantorId),
      this.users.findById(grant.granteeId),
    ]);
    if (grantee) await this.setup.mail(emergencyMail[what](grantee.email, grantor));
  }
}
