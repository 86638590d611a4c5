import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { PushPublisher } from '@keyhaven/bus';
import { PushType, badRequest } from '@keyhaven/contracts';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import { MemberRepository } from './member.repository';
import { OrganizationRepository } from './organization.repository';

/** What billing decides for an organization: its seat limit (null: the Free plan's) and whether it works. */
export interface BillingState {
  readonly seats: number | null;
  readonly enabled: boolean;
}

/**
 * The billing domain's way to change an organization (its seats and `enabled`), since the organization
 * table is this domain's. A disabled organization keeps every member, collection and item; its members'
 * clients show it disabled after their next sync, and its API key stops working.
 */
@Injectable()
export class OrganizationBillingState {
  constructor(
    private readonly db: Database,
    private readonly members: MemberRepository,
    private readonly revisions: AccountRevisionService,
    private readonly push: PushPublisher,
    private readonly organizations: OrganizationRepository,
  ) {}

  /**
   * Lowers the seat limit before fewer seats are billed, under the same organization lock the seat
   * check of invitations and restores takes: a member added meanwhile either came first (and the
   * reduction is refused here, 400) or waits and finds the lower limit. Answers the limit it replaced,
   * for `restoreSeats` if the billing change then fails.
   */
  async lowerSeats(organizationId: string, seats: number): Promise<number | null> {
    return this.db.transaction(async () => {
      const current = await this.organizations.lockSeats(organizationId);
      const used = await this.members.countSeatsUsed(organizationId);
      if (used > seats) {
        throw badRequest(`The organization uses ${used} seats; it cannot have fewer than ${used}.`);
      }
      await this.db.execute('UPDATE organization SET seats = $2, revision_date = now() WHERE id = $1', [
        organizationId,
        seats,
      ]);
      return current?.seats ?? null;
    });
  }

  /** Puts back the limit `lowerSeats` replaced, unless something else has changed it since. */
  async restoreSeats(organizationId: string, lowered: number, previous: number | null): Promise<void> {
    await this.db.execute('UPDATE organization SET seats = $2 WHERE id = $1 AND seats = $3', [
      organizationId,
      previous,
      lowered,
    ]);
  }

  /** In the caller's transaction; true when something changed (members then re-sync). */
  async apply(organizationId: string, state: BillingState): Promise<boolean> {
    const changed = await this.db.rows<{ id: string }>(
      `UPDATE organization SET seats = $2, enabled = $3, revision_date = now()
       WHERE id = $1 AND (seats IS DISTINCT FROM $2 OR enabled IS DISTINCT FROM $3) RETURNING id`,
      [organizationId, state.seats, state.enabled],
    );
    if (changed.length === 0) return false;
    await this.revisions.touchOrganizationMembers(organizationId);
    return true;
  }

  /** After commit: the members' clients fetch the organization again. */
  async announce(organizationId: string): Promise<void> {
    const members = await this.members.listDetails(organizationId, null);
    this.push.publishToUsers(
      PushType.SyncOrganizations,
      members.flatMap((m) => (m.userId ? [m.userId] : [])),
    );
  }
}
