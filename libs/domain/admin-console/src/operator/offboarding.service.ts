import { Injectable } from '@nestjs/common';
import { PushPublisher } from '@keyhaven/bus';
import { PushType, notFound } from '@keyhaven/contracts';
import { Database } from '@keyhaven/db';
import { AccountAdministrationService, AccountRevisionService } from '@keyhaven/domain-auth';
import { OperatorDirectory } from './operator-directory';
import { OperatorEventType, OperatorEvents, type OperatorEvent } from './operator-events';

/** What one offboarding did; a repeated call reports nothing left to do. */
export interface OffboardingResult {
  readonly userId: string;
  readonly email: string;
  /** True when the account had been offboarded before and nothing changed now. */
  readonly alreadyOffboarded: boolean;
  readonly disabled: boolean;
  readonly revokedFrom: readonly { organizationId: string; organizationName: string; memberId: string }[];
  /** Refresh tokens ended (each a signed-in client); access tokens die with the new security stamp. */
  readonly sessionsEnded: number;
  readonly securityStampRotated: boolean;
  readonly eventsRecorded: number;
}

const REVOKED_REASON = 'offboarded';

/**
 * Offboarding in one step and one transaction: the account is disabled, revoked (not removed) from
 * every organization, every session and refresh token ended under a new security stamp, and each of
 * these recorded. Its data stays: owners see the member revoked and may restore or remove it. The
 * account's live clients get `LogOut` once the transaction has committed.
 */
@Injectable()
export class OffboardingService {
  constructor(
    private readonly db: Database,
    private readonly directory: OperatorDirectory,
    private readonly accounts: AccountAdministrationService,
    private readonly revisions: AccountRevisionService,
    private readonly events: OperatorEvents,
    private readonly push: PushPublisher,
  ) {}

  async offboardByEmail(email: string): Promise<OffboardingResult> {
    const user = await this.directory.userByEmail(email);
    if (!user) throw notFound('User');
    return this.offboard(user.id);
  }

  async offboard(userId: string): Promise<OffboardingResult> {
    const result = await this.db.transaction(async () => {
      // Locks the account row: two offboardings of one account run one after the other.
      const locked = await this.db.rows<{ email: string; enabled: boolean }>(
        'SELECT email, enabled FROM app_user WHERE id = $1 FOR UPDATE',
        [userId],
      );
      const account = locked[0];
      if (!account) throw notFound('User');
      const disabled = await this.accounts.setEnabled(userId, false);
      const revoked = await this.db.rows<{ id: string; organization_id: string; name: string }>(
        `UPDATE organization_user m SET status = -1, revoked_reason = $2, revision_date = $3
         FROM organization o
         WHERE o.id = m.organization_id AND m.user_id = $1 AND m.status <> -1
         RETURNING m.id, m.organization_id, o.name`,
        [userId, REVOKED_REASON, new Date()],
      );
      const changed = disabled || revoked.length > 0;
      // A repeat finds nothing to do, but a refresh token issued in between (it cannot be: login is
      // refused once disabled) would still be ended, so the sessions are always swept.
      const sessionsEnded = await this.accounts.endAllSessions(userId);
      await this.revisions.touchUsers([userId]);
      const events: OperatorEvent[] = [
        { type: OperatorEventType.User_Offboarded, userId },
        ...revoked.map((m) => ({
          type: OperatorEvents.memberRevoked,
          userId,
          organizationId: m.organization_id,
          organizationUserId: m.id,
        })),
      ];
      await this.events.record(events);
      return {
        userId,
        email: account.email,
        alreadyOffboarded: !changed && sessionsEnded === 0,
        disabled,
        revokedFrom: revoked.map((m) => ({
          organizationId: m.organization_id,
          organizationName: m.name,
          memberId: m.id,
        })),
        sessionsEnded,
        securityStampRotated: true,
        eventsRecorded: events.length,
      };
    });
    this.push.publishToUsers(PushType.LogOut, [userId]);
    if (result.revokedFrom.length > 0) this.push.publishToUsers(PushType.SyncOrgKeys, [userId]);
    return result;
  }
}
