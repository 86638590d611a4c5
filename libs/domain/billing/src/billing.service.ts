import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database } from '@keyhaven/db';
import { badRequest, parseBody } from '@keyhaven/contracts';
import {
  MemberRepository,
  OrganizationBillingState,
  OrganizationRepository,
  type Membership,
} from '@keyhaven/domain-admin-console';
import { BillingEventType, BillingEvents } from './billing-events';
import { BillingLifecycle } from './billing-lifecycle';
import { BillingRepository, type Subscription } from './billing.repository';
import { BillingSwitch } from './billing-switch';
import { planOfType, priceFor } from './plans';
import { paysForSeats } from './standing';
import { StripeGateway } from './stripe-gateway';
import { subscriptionFields, type Json } from './stripe-objects';

export const checkoutSchema = z.object({
  plan: z.enum(['teams', 'enterprise']),
  interval: z.enum(['monthly', 'yearly']).default('monthly'),
  seats: z.number().int().min(1).max(100000),
});
/** Bitwarden's `SeatRequest` and `OrganizationSubscriptionUpdateRequest` both carry `seatAdjustment`. */
export const seatAdjustmentSchema = z.object({ seatAdjustment: z.number().int().min(-100000).max(100000) });

/**
 * Bitwarden's `OrganizationUpgradeRequest`: the plan number and the seats (the current plans have no
 * base seats, so `additionalSeats` is the whole count). Its storage, Secrets Manager and tax fields
 * are not sold here and are ignored.
 */
export const upgradeSchema = z.object({
  planType: z.number().int(),
  additionalSeats: z.number().int().min(0).max(100000).nullish(),
});

/**
 * What an owner does with the organization's subscription. Each action calls Stripe (never from a
 * login or a sync path) and applies Stripe's answer right away, so the web vault shows it at once;
 * the webhook that follows finds it applied and changes nothing.
 */
@Injectable()
export class BillingService {
  constructor(
    private readonly db: Database,
    private readonly billing: BillingRepository,
    private readonly lifecycle: BillingLifecycle,
    private readonly events: BillingEvents,
    private readonly stripe: StripeGateway,
    private readonly enabled: BillingSwitch,
    private readonly organizations: OrganizationRepository,
    private readonly members: MemberRepository,
    private readonly seatLimits: OrganizationBillingState,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  private vaultLink(organizationId: string, query = ''): string {
    return `${this.config.DOMAIN}/#/organizations/${organizationId}/billing/subscription${query}`;
  }

  /** A Stripe Checkout session for the Teams or Enterprise plan; the subscription arrives by webhook. */
  async checkout(actor: Membership, request: unknown): Promise<{ id: string; url: string }> {
    this.enabled.require();
    const body = parseBody(checkoutSchema, request);
    const orgId = actor.organizationId;
    const org = await this.organizations.findById(orgId);
    if (!org) throw badRequest('Organization not found.');
    const current = await this.billing.find(orgId);
    if (current && current.state !== 'disabled' && paysForSeats(current.state)) {
      throw badRequest('This organization already has a subscription: change its seats or manage it in the portal.');
    }
    const used = await this.members.countSeatsUsed(orgId);
    if (body.seats < used) {
      throw badRequest(`The organization uses ${used} seats; subscribe to at least ${used}.`);
    }
    const session = await this.stripe.call((stripe) =>
      stripe.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ price: priceFor(this.config, body), quantity: body.seats }],
        client_reference_id: orgId,
        ...(current ? { customer: current.customerId } : { customer_email: org.billingEmail }),
        metadata: { organizationId: orgId },
        subscription_data: { metadata: { organizationId: orgId } },
        success_url: this.vaultLink(orgId, '?checkout=success'),
        cancel_url: this.vaultLink(orgId, '?checkout=canceled'),
      }),
    );
    await this.events.record(orgId, [BillingEventType.Checkout_Started]);
    if (!session.url) throw new Error('Stripe answered a Checkout session without a URL');
    return { id: session.id, url: session.url };
  }

  /** The Stripe customer portal: payment methods, invoices, the billing address. */
  async portal(actor: Membership): Promise<{ url: string }> {
    const current = await this.requireSubscription(actor.organizationId);
    const session = await this.stripe.call((stripe) =>
      stripe.billingPortal.sessions.create({
        customer: current.customerId,
        return_url: this.vaultLink(actor.organizationId),
      }),
    );
    return { url: session.url };
  }

  /** Adds or removes seats, prorated; never below the seats in use. */
  async adjustSeats(actor: Membership, request: unknown): Promise<void> {
    this.enabled.require();
    const adjustment = parseBody(seatAdjustmentSchema, request).seatAdjustment;
    const current = await this.requireSubscription(actor.organizationId);
    if (current.state !== 'active' && current.state !== 'grace') {
      throw badRequest('Seats can change only while the subscription is active.');
    }
    const seats = current.seats + adjustment;
    const used = await this.members.countSeatsUsed(actor.organizationId);
    if (seats < Math.max(1, used)) {
      throw badRequest(`The organization uses ${used} seats; it cannot have fewer than ${Math.max(1, used)}.`);
    }
    if (seats === current.seats || !current.itemId) return;
    await this.changeSeats(current, seats, {
      items: [{ id: current.itemId, quantity: seats }],
      proration_behavior: 'create_prorations',
    });
  }

  /**
   * `POST organizations/{id}/upgrade` from the web vault's change-plan dialog: moves an existing
   * subscription to another plan or billing interval (same Stripe item, new price, prorated). An
   * organization without one is refused: the dialog first sends a card tokenized by Stripe.js under the
   * publishable key built into the web vault (Bitwarden's Stripe account, not the operator's), which no
   * Keyhaven server can charge, so the first subscription starts through Checkout.
   */
  async upgrade(actor: Membership, request: unknown): Promise<void> {
    this.enabled.require();
    const body = parseBody(upgradeSchema, request);
    const choice = planOfType(body.planType);
    if (!choice) {
      throw badRequest('This server sells Teams and Enterprise, monthly or annually (plan types 17, 18, 19 and 20).');
    }
    const current = await this.billing.find(actor.organizationId);
    if (!current || (current.state !== 'active' && current.state !== 'grace')) {
      throw badRequest(
        'This organization has no active subscription to change. Subscribe through Stripe Checkout first ' +
          `(POST /api/organizations/${actor.organizationId}/billing/checkout); the web vault's card form cannot pay this server.`,
      );
    }
    const seats = body.additionalSeats ? body.additionalSeats : current.seats;
    const used = await this.members.countSeatsUsed(actor.organizationId);
    if (seats < Math.max(1, used)) {
      throw badRequest(`The organization uses ${used} seats; it cannot have fewer than ${Math.max(1, used)}.`);
    }
    const price = priceFor(this.config, choice);
    if (!current.itemId || (price === current.priceId && seats === current.seats)) return;
    await this.changeSeats(current, seats, {
      items: [{ id: current.itemId, price, quantity: seats }],
      proration_behavior: 'create_prorations',
    });
  }

  /** Ends the subscription when the paid period ends; until then nothing changes. */
  async cancel(actor: Membership): Promise<void> {
    const current = await this.requireSubscription(actor.organizationId);
    if (!paysForSeats(current.state)) throw badRequest('This organization has no subscription to cancel.');
    await this.update(current, { cancel_at_period_end: true });
  }

  /** Withdraws a cancellation scheduled for the end of the period. */
  async reinstate(actor: Membership): Promise<void> {
    const current = await this.requireSubscription(actor.organizationId);
    if (!current.cancelAtPeriodEnd || !paysForSeats(current.state)) {
      throw badRequest('The subscription is not set to cancel.');
    }
    await this.update(current, { cancel_at_period_end: false });
  }

  private async requireSubscription(organizationId: string): Promise<Subscription> {
    this.enabled.require();
    const current = await this.billing.find(organizationId);
    if (!current) throw badRequest('This organization has no subscription; upgrade it through Checkout first.');
    return current;
  }

  /**
   * A change of the billed seats. Fewer seats lower the enforced limit first (checked against the seats
   * in use under the organization's lock), so an invitation racing the change cannot end above it; if
   * Stripe then refuses, the old limit is put back. More seats are billed first and granted after.
   */
  private async changeSeats(current: Subscription, seats: number, params: Record<string, unknown>): Promise<void> {
    if (seats >= current.seats) return this.update(current, params);
    const previous = await this.seatLimits.lowerSeats(current.organizationId, seats);
    try {
      await this.update(current, params);
    } catch (error) {
      await this.seatLimits.restoreSeats(current.organizationId, seats, previous);
      throw error;
    }
  }

  private async update(current: Subscription, params: Record<string, unknown>): Promise<void> {
    const answer = await this.stripe.call((stripe) => stripe.subscriptions.update(current.subscriptionId, params));
    const fields = subscriptionFields(answer as unknown as Json, false);
    const results = await this.db.transaction(async () => [
      await this.lifecycle.applySnapshot(
        { organizationId: current.organizationId, ...fields },
        Math.max(current.stripeCreated, Math.floor(Date.now() / 1000)),
      ),
    ]);
    await this.lifecycle.afterCommit(results);
  }
}
