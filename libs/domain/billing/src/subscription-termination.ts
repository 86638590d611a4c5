import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import Stripe from 'stripe';
import { KeyhavenError } from '@keyhaven/contracts';
import { Database } from '@keyhaven/db';
import { OrganizationDeletionHooks, type OrganizationDeletionHook } from '@keyhaven/domain-admin-console';
import { BillingLifecycle } from './billing-lifecycle';
import { BillingRepository } from './billing.repository';
import { BillingSwitch } from './billing-switch';
import { StripeGateway } from './stripe-gateway';
import { subscriptionFields, type Json } from './stripe-objects';

/** Stripe statuses after which nothing is billed any more. */
const ENDED = new Set(['canceled', 'incomplete_expired']);

/**
 * A deleted organization must stop paying: before the admin console deletes one (its owner or the
 * operator), its Stripe subscription is cancelled at once (not at the period's end). Stripe refusing or
 * unreachable refuses the deletion (503, nothing deleted), since deleting first would leave a customer
 * billed for an organization that no longer exists. A subscription Stripe no longer knows counts as
 * ended. The `customer.subscription.deleted` webhook that follows finds no organization and is ignored.
 */
@Injectable()
export class SubscriptionTermination implements OrganizationDeletionHook, OnModuleInit {
  private readonly logger = new Logger('billing');

  constructor(
    private readonly hooks: OrganizationDeletionHooks,
    private readonly db: Database,
    private readonly billing: BillingRepository,
    private readonly lifecycle: BillingLifecycle,
    private readonly stripe: StripeGateway,
    private readonly enabled: BillingSwitch,
  ) {}

  onModuleInit(): void {
    this.hooks.register(this);
  }

  async beforeOrganizationDeleted(organizationId: string): Promise<void> {
    if (!this.enabled.on) return;
    const current = await this.billing.find(organizationId);
    if (!current || ENDED.has(current.stripeStatus)) return;
    let answer: Stripe.Subscription;
    try {
      answer = await this.cancel(current.subscriptionId);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'resource_missing') return;
      this.logger.warn(
        `subscription of a deleted organization not cancelled: ${error instanceof Error ? error.message : 'unknown error'}`,
      );
      throw new KeyhavenError(
        'unavailable',
        "The organization's Stripe subscription could not be cancelled, so nothing was deleted. Try again later.",
      );
    }
    // Recorded (event 9106) in case the deletion itself fails now: the organization is then on the Free plan.
    const fields = subscriptionFields(answer as unknown as Json, true);
    await this.db.transaction(() =>
      this.lifecycle.applySnapshot(
        { organizationId, ...fields },
        Math.max(current.stripeCreated, Math.floor(Date.now() / 1000)),
      ),
    );
  }

  /**
   * Cancels now. Stripe refuses to cancel a subscription that has already ended (cancelled in its
   * dashboard, say, before the webhook arrived); its own status then says whether anything is still billed.
   */
  private async cancel(subscriptionId: string): Promise<Stripe.Subscription> {
    try {
      return await this.stripe.stripe.subscriptions.cancel(subscriptionId);
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeInvalidRequestError) || error.code === 'resource_missing') throw error;
      const now = await this.stripe.stripe.subscriptions.retrieve(subscriptionId);
      if (ENDED.has(now.status)) return now;
      throw error;
    }
  }
}
