import { Injectable } from '@nestjs/common';
import { BillingRepository } from './billing.repository';
import { BillingSwitch } from './billing-switch';
import { planName } from './plans';

export interface SubscriptionRow {
  readonly organizationId: string;
  readonly organizationName: string;
  readonly plan: string;
  readonly standing: string;
  readonly stripeStatus: string;
  readonly seatsPaid: number;
  readonly seatsUsed: number;
  readonly periodEnd: string | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly graceEnds: string | null;
}

export interface BillingOverviewData {
  readonly enabled: boolean;
  readonly subscriptions: SubscriptionRow[];
  /** Paid amounts (minor units) per month, oldest first, one series per currency. */
  readonly revenue: { month: string; currency: string; amount: number }[];
}

/** The operator's view (admin portal): every subscription with seats used and paid, revenue per month. */
@Injectable()
export class BillingOverview {
  constructor(
    private readonly billing: BillingRepository,
    private readonly enabled: BillingSwitch,
  ) {}

  async read(months = 12): Promise<BillingOverviewData> {
    if (!this.enabled.on) return { enabled: false, subscriptions: [], revenue: [] };
    const [subs, revenue] = [await this.billing.overview(), await this.billing.revenueByMonth(months)];
    return {
      enabled: true,
      subscriptions: subs.map((s) => ({
        organizationId: s.organizationId,
        organizationName: s.organizationName,
        plan: planName(s.plan, s.interval),
        standing: s.state,
        stripeStatus: s.stripeStatus,
        seatsPaid: s.seats,
        seatsUsed: s.seatsUsed,
        periodEnd: s.periodEnd?.toISOString() ?? null,
        cancelAtPeriodEnd: s.cancelAtPeriodEnd,
        graceEnds: s.graceEnds?.toISOString() ?? null,
      })),
      revenue,
    };
  }
}
