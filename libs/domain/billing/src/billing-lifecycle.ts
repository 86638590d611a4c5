import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { OrganizationBillingState } from '@keyhaven/domain-admin-console';
import { BillingEventType } from './billing-events';
import { BillingEvents } from './billing-events';
import { BillingMail } from './billing-mail';
import { BillingRepository, type BillingStanding, type Subscription } from './billing.repository';
import { planOfPrice } from './plans';
import { nextStanding, paysForSeats, type BillingInput } from './standing';

/** A Stripe subscription as far as Keyhaven cares, whichever API version shaped it. */
export interface SubscriptionSnapshot {
  readonly organizationId: string;
  readonly subscriptionId: string;
  readonly customerId: string;
  readonly itemId: string | null;
  readonly priceId: string | null;
  readonly seats: number;
  readonly unitAmount: number | null;
  readonly currency: string | null;
  readonly status: string;
  readonly deleted: boolean;
  readonly periodStart: Date | null;
  readonly periodEnd: Date | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly canceledAt: Date | null;
}

/** What to do once the transaction has committed. */
export interface AfterCommit {
  readonly organizationId: string;
  readonly standing: BillingStanding | null;
  readonly standingChanged: boolean;
  readonly organizationChanged: boolean;
  readonly graceEnds: Date | null;
}

const NOTHING = (organizationId: string): AfterCommit => ({
  organizationId,
  standing: null,
  standingChanged: false,
  organizationChanged: false,
  graceEnds: null,
});

/**
 * Applies what Stripe reports (or an owner's change, or the grace period's end) to the subscription
 * row, the organization (seats, enabled) and the event log, in the caller's transaction. `created` is
 * the Stripe event's time (Unix seconds): anything older than what was applied already is stale and
 * changes no standing (an out-of-order or late event is harmless); invoices are still recorded.
 */
@Injectable()
export class BillingLifecycle {
  constructor(
    private readonly billing: BillingRepository,
    private readonly organizations: OrganizationBillingState,
    private readonly events: BillingEvents,
    private readonly mail: BillingMail,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  async applySnapshot(snapshot: SubscriptionSnapshot, created: number): Promise<AfterCommit> {
    const previous = await this.billing.findForUpdate(snapshot.organizationId);
    if (previous && created < previous.stripeCreated) return NOTHING(snapshot.organizationId);
    // A snapshot of a subscription the organization replaced (a new checkout after a cancellation) is history.
    if (previous && previous.subscriptionId !== snapshot.subscriptionId && snapshot.deleted) {
      return NOTHING(snapshot.organizationId);
    }
    const sameSubscription = previous?.subscriptionId === snapshot.subscriptionId;
    const before = sameSubscription ? previous.state : previous?.state === 'disabled' ? 'canceled' : null;
    const standing =
      nextStanding(before, { kind: 'snapshot', status: snapshot.status, deleted: snapshot.deleted }) ?? 'incomplete';
    const plan = planOfPrice(this.config, snapshot.priceId);
    const next: Subscription = {
      organizationId: snapshot.organizationId,
      customerId: snapshot.customerId,
      subscriptionId: snapshot.subscriptionId,
      itemId: snapshot.itemId,
      priceId: snapshot.priceId,
      plan: plan.plan,
      interval: plan.interval,
      seats: snapshot.seats,
      unitAmount: snapshot.unitAmount,
      currency: snapshot.currency,
      stripeStatus: snapshot.deleted ? 'canceled' : snapshot.status,
      state: standing,
      periodStart: snapshot.periodStart,
      periodEnd: snapshot.periodEnd,
      cancelAtPeriodEnd: snapshot.cancelAtPeriodEnd,
      canceledAt: snapshot.canceledAt,
      graceEnds: this.graceEnds(sameSubscription ? previous : null, standing),
      stripeCreated: Math.max(created, previous?.stripeCreated ?? 0),
    };
    const types: BillingEventType[] = [];
    const old = sameSubscription ? previous : null;
    if (old && paysForSeats(old.state) && paysForSeats(standing)) {
      if (old.seats !== next.seats) types.push(BillingEventType.Subscription_SeatsChanged);
      if (old.plan !== next.plan || old.interval !== next.interval)
        types.push(BillingEventType.Subscription_PlanChanged);
      if (!old.cancelAtPeriodEnd && next.cancelAtPeriodEnd) types.push(BillingEventType.Subscription_CancelScheduled);
      if (old.cancelAtPeriodEnd && !next.cancelAtPeriodEnd) types.push(BillingEventType.Subscription_Reinstated);
    }
    return this.store(previous, next, types);
  }

  /** A paid or failed invoice of the organization's current subscription. */
  async applyPayment(
    organizationId: string,
    subscriptionId: string | null,
    kind: 'paid' | 'payment-failed',
    created: number,
  ): Promise<AfterCommit> {
    const previous = await this.billing.findForUpdate(organizationId);
    if (!previous || (subscriptionId !== null && subscriptionId !== previous.subscriptionId)) {
      return NOTHING(organizationId);
    }
    if (created < previous.stripeCreated) return NOTHING(organizationId);
    return this.move(previous, { kind }, created, kind === 'payment-failed' ? [BillingEventType.Payment_Failed] : []);
  }

  /** The grace period is over (the job): disabled, data kept. */
  async expireGrace(organizationId: string, now: Date): Promise<AfterCommit> {
    const previous = await this.billing.findForUpdate(organizationId);
    if (previous?.state !== 'grace' || !previous.graceEnds || previous.graceEnds > now) return NOTHING(organizationId);
    return this.move(previous, { kind: 'grace-over' }, previous.stripeCreated, []);
  }

  /** After commit: the owners are mailed and the members' clients told to re-read the organization. */
  async afterCommit(results: readonly AfterCommit[]): Promise<void> {
    for (const r of results) {
      if (r.organizationChanged) await this.organizations.announce(r.organizationId);
      if (r.standingChanged && r.standing) await this.mail.standingChanged(r.organizationId, r.standing, r.graceEnds);
    }
  }

  private async move(
    previous: Subscription,
    input: BillingInput,
    created: number,
    types: BillingEventType[],
  ): Promise<AfterCommit> {
    const standing = nextStanding(previous.state, input) ?? previous.state;
    const next: Subscription = {
      ...previous,
      state: standing,
      graceEnds: this.graceEnds(previous, standing),
      stripeCreated: Math.max(created, previous.stripeCreated),
    };
    return this.store(previous, next, types);
  }

  private graceEnds(previous: Subscription | null, standing: BillingStanding): Date | null {
    if (standing !== 'grace') return null;
    if (previous?.state === 'grace' && previous.graceEnds) return previous.graceEnds;
    return new Date(Date.now() + this.config.BILLING_GRACE_DAYS * 24 * 3600 * 1000);
  }

  private async store(
    previous: Subscription | null,
    next: Subscription,
    types: BillingEventType[],
  ): Promise<AfterCommit> {
    const changedStanding = previous?.state !== next.state || previous.subscriptionId !== next.subscriptionId;
    if (changedStanding) types.push(...this.standingEvents(previous?.state ?? null, next.state));
    await this.billing.save(next);
    const organizationChanged = await this.organizations.apply(next.organizationId, {
      seats: paysForSeats(next.state) ? next.seats : null,
      enabled: next.state !== 'disabled',
    });
    await this.events.record(next.organizationId, types);
    return {
      organizationId: next.organizationId,
      standing: next.state,
      standingChanged: changedStanding && previous?.state !== next.state,
      organizationChanged,
      graceEnds: next.graceEnds,
    };
  }

  private standingEvents(from: BillingStanding | null, to: BillingStanding): BillingEventType[] {
    const unpaid = from === 'grace' || from === 'disabled';
    switch (to) {
      case 'active':
        return [unpaid ? BillingEventType.Organization_Reenabled : BillingEventType.Subscription_Started];
      case 'grace':
        return [BillingEventType.Organization_GracePeriodStarted];
      case 'disabled':
        return [BillingEventType.Organization_Disabled];
      case 'canceled':
        return [BillingEventType.Subscription_Ended];
      case 'incomplete':
        return [];
    }
  }
}
