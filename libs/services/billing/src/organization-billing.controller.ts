import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import type { Membership } from '@keyhaven/domain-admin-console';
import { BillingReads, BillingService } from '@keyhaven/domain-billing';
import { OrgMember, OrgPermission } from '@keyhaven/platform-auth';

/**
 * The organization billing routes the web vault calls (under `/api`), plus Keyhaven's Checkout and
 * portal links. Owners only, as in Bitwarden. With BILLING=off each answers 404.
 */
@Controller('organizations/:orgId')
export class OrganizationBillingController {
  constructor(
    private readonly reads: BillingReads,
    private readonly billing: BillingService,
  ) {}

  @Get('subscription')
  @OrgPermission('owner')
  subscription(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return this.reads.subscription(actor.organizationId);
  }

  @Get('billing')
  @OrgPermission('owner')
  billingSummary(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return this.reads.billingSummary(actor.organizationId);
  }

  @Get('billing/history')
  @OrgPermission('owner')
  history(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return this.reads.history(actor.organizationId);
  }

  /** Any member: the web vault's organization pages read it to show an unpaid subscription's banner. */
  @Get('billing/metadata')
  @OrgPermission('member')
  metadata(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return this.reads.metadata(actor.organizationId);
  }

  /** The newer web vault's name for the same `OrganizationBillingMetadataResponse`. */
  @Get('billing/vnext/metadata')
  @OrgPermission('member')
  metadataVNext(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return this.reads.metadata(actor.organizationId);
  }

  @Get('billing/vnext/warnings')
  @OrgPermission('member')
  warnings(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return this.reads.warnings(actor);
  }

  @Post('billing/checkout')
  @HttpCode(200)
  @OrgPermission('owner')
  async checkout(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    return { ...(await this.billing.checkout(actor, body)), object: 'checkoutSession' };
  }

  @Post('billing/portal')
  @HttpCode(200)
  @OrgPermission('owner')
  async portal(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return { ...(await this.billing.portal(actor)), object: 'portalSession' };
  }

  /** Bitwarden's `SeatRequest`; answers its `PaymentResponse` (no further payment step needed). */
  @Post('seat')
  @HttpCode(200)
  @OrgPermission('owner')
  async seat(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    await this.billing.adjustSeats(actor, body);
    return { success: true, paymentIntentClientSecret: null, object: 'payment' };
  }

  /**
   * The newer `OrganizationSubscriptionUpdateRequest` (`seatAdjustment`; autoscale limits are not kept);
   * the web vault reads the answer as a `ProfileOrganizationResponse`.
   */
  @Post('subscription')
  @HttpCode(200)
  @OrgPermission('owner')
  async updateSubscription(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    await this.billing.adjustSeats(actor, body);
    return this.reads.profileOrganization(actor);
  }

  /** Bitwarden's `OrganizationUpgradeRequest` (plan change of an existing subscription); answers `PaymentResponse`. */
  @Post('upgrade')
  @HttpCode(200)
  @OrgPermission('owner')
  async upgrade(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    await this.billing.upgrade(actor, body);
    return { success: true, paymentIntentClientSecret: null, userProfile: null, object: 'payment' };
  }

  @Post('cancel')
  @HttpCode(200)
  @OrgPermission('owner')
  async cancel(@OrgMember() actor: Membership): Promise<void> {
    await this.billing.cancel(actor);
  }

  @Post('reinstate')
  @HttpCode(200)
  @OrgPermission('owner')
  async reinstate(@OrgMember() actor: Membership): Promise<void> {
    await this.billing.reinstate(actor);
  }
}
