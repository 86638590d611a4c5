import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { badRequest } from '@keyhaven/contracts';
import { MemberRepository } from './member.repository';
import { OrganizationRepository } from './organization.repository';

/**
 * The seat check every path that adds a member calls (invitations from the web vault, the public API,
 * the directory import and SCIM all go through `MembersService.insertInvitations`; restoring a revoked
 * member through `restore`). A port so the member code does not know where limits come from.
 */
export interface SeatLimit {
  /**
   * Refuses (400 naming the limit) when `adding` more occupied seats would pass the organization's
   * limit. Called inside the transaction that then adds the members: the check holds a lock on the
   * organization until that transaction ends, so two invitations or restores at the same moment cannot
   * both count the same free seat.
   */
  assertRoomFor(organizationId: string, adding: number): Promise<void>;
}

export const SEAT_LIMIT = Symbol('SEAT_LIMIT');

/** BILLING=off: every organization has unlimited seats, as self-hosted Bitwarden does. */
export class UnlimitedSeats implements SeatLimit {
  assertRoomFor(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * BILLING=stripe: the organization's `seats` holds what its subscription pays for (the billing domain
 * keeps it in step with Stripe through `OrganizationBillingState`); no subscription means the Free
 * plan's seats. Read from PostgreSQL, never from Stripe.
 */
@Injectable()
export class PlanSeats implements SeatLimit {
  constructor(
    private readonly organizations: OrganizationRepository,
    private readonly members: MemberRepository,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  async assertRoomFor(organizationId: string, adding: number): Promise<void> {
    if (adding <= 0) return;
    const org = await this.organizations.lockSeats(organizationId);
    if (!org) return;
    const limit = org.seats ?? this.config.BILLING_FREE_SEATS;
    const used = await this.members.countSeatsUsed(organizationId);
    if (used + adding > limit) {
      throw badRequest(
        `Seat limit reached: this organization's plan has ${limit} seats and ${used} are in use; ` +
          `adding ${adding} would need ${used + adding}. Add seats to the subscription or remove members first.`,
      );
    }
  }
}

/** The binding the admin-console module provides: chosen once from configuration. */
export const seatLimitProvider = {
  provide: SEAT_LIMIT,
  inject: [KEYHAVEN_CONFIG, OrganizationRepository, MemberRepository],
  useFactory: (config: KeyhavenConfig, organizations: OrganizationRepository, members: MemberRepository): SeatLimit =>
    config.BILLING === 'off' ? new UnlimitedSeats() : new PlanSeats(organizations, members, config),
};
