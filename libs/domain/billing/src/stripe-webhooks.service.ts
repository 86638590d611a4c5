import { Injectable, Logger } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { badRequest } from '@keyhaven/contracts';
import { OrganizationRepository } from '@keyhaven/domain-admin-console';
import { BillingEventType, BillingEvents } from './billing-events';
import { BillingLifecycle, type AfterCommit, type SubscriptionSnapshot } from './billing-lifecycle';
import { BillingRepository } from './billing.repository';
import { BillingSwitch } from './billing-switch';
import { StripeGateway } from './stripe-gateway';
import { UUID, idOf, num, obj, str, subscriptionFields, time, type Json } from './stripe-objects';

const SUBSCRIPTION_EVENTS = new Set([
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
]);
const INVOICE_EVENTS = new Set(['invoice.paid', 'invoice.payment_failed', 'invoice.finalized']);

export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored';

/**
 * Stripe's webhooks: verified (signature and a timestamp at most 5 minutes old, by the `stripe`
 * library), handled exactly once per event id (the id is stored in the same transaction as the change,
 * so a replay or Stripe's retry finds it and changes nothing), in any order (see BillingLifecycle), and
 * every type Keyhaven does not use acknowledged and dropped. Nothing here calls Stripe back.
 */
@Injectable()
export class StripeWebhooks {
  private readonly logger = new Logger('stripe-webhooks');

  constructor(
    private readonly db: Database,
    private readonly billing: BillingRepository,
    private readonly lifecycle: BillingLifecycle,
    private readonly events: BillingEvents,
    private readonly stripe: StripeGateway,
    private readonly enabled: BillingSwitch,
    private readonly organizations: OrganizationRepository,
  ) {}

  async receive(payload: Buffer | undefined, signature: string | undefined): Promise<WebhookOutcome> {
    this.enabled.require();
    if (!payload || !signature) throw badRequest('A signed Stripe event is required.');
    let event: { id: string; type: string; created: number; data: { object: unknown } };
    try {
      event = this.stripe.verify(payload, signature);
    } catch {
      throw badRequest('The Stripe signature does not verify (wrong secret, altered body or stale timestamp).');
    }
    const object = obj(event.data.object);
    const known = SUBSCRIPTION_EVENTS.has(event.type) || INVOICE_EVENTS.has(event.type);
    const results = await this.db.transaction(async (): Promise<AfterCommit[] | null> => {
      if (!(await this.billing.claimEvent(event.id, event.type, event.created))) return null;
      if (!known) return [];
      if (SUBSCRIPTION_EVENTS.has(event.type)) {
        const snapshot = await this.snapshotOf(object, event.type === 'customer.subscription.deleted');
        return snapshot ? [await this.lifecycle.applySnapshot(snapshot, event.created)] : [];
      }
      return this.invoice(event.type, object, event.created);
    });
    if (results === null) return 'duplicate';
    await this.lifecycle.afterCommit(results);
    return known ? 'applied' : 'ignored';
  }

  private async invoice(type: string, invoice: Json, created: number): Promise<AfterCommit[]> {
    const customerId = idOf(invoice['customer']);
    const invoiceId = str(invoice['id']);
    const organizationId = customerId ? await this.billing.organizationOfCustomer(customerId) : null;
    if (!organizationId || !invoiceId) {
      this.logger.warn(`invoice event for an unknown customer ignored (${type})`);
      return [];
    }
    // The subscription moved under `parent.subscription_details` in 2025; older API versions have it on top.
    const parent = obj(obj(invoice['parent'])['subscription_details']);
    const subscriptionId = idOf(parent['subscription']) ?? idOf(invoice['subscription']);
    const paid = type === 'invoice.paid';
    const paidAt = time(obj(invoice['status_transitions'])['paid_at']) ?? (paid ? new Date(created * 1000) : null);
    await this.billing.saveInvoice({
      id: invoiceId,
      organizationId,
      number: str(invoice['number']),
      status: paid ? 'paid' : (str(invoice['status']) ?? 'open'),
      amountDue: num(invoice['amount_due']) ?? 0,
      amountPaid: paid ? (num(invoice['amount_paid']) ?? 0) : 0,
      currency: str(invoice['currency']) ?? 'usd',
      hostedUrl: str(invoice['hosted_invoice_url']),
      pdfUrl: str(invoice['invoice_pdf']),
      created: time(invoice['created']) ?? new Date(created * 1000),
      paidDate: paid ? paidAt : null,
    });
    if (type === 'invoice.finalized') return [];
    if (paid) await this.events.record(organizationId, [BillingEventType.Invoice_Paid]);
    return [
      await this.lifecycle.applyPayment(organizationId, subscriptionId, paid ? 'paid' : 'payment-failed', created),
    ];
  }

  /** The organization comes from the metadata Keyhaven set at checkout, else from the customer. */
  private async snapshotOf(sub: Json, deleted: boolean): Promise<SubscriptionSnapshot | null> {
    const customerId = idOf(sub['customer']);
    if (!str(sub['id']) || !customerId) return null;
    const fromMetadata = str(obj(sub['metadata'])['organizationId']);
    const organizationId =
      fromMetadata && UUID.test(fromMetadata)
        ? fromMetadata.toLowerCase()
        : await this.billing.organizationOfCustomer(customerId);
    if (!organizationId || !(await this.organizations.findById(organizationId))) {
      this.logger.warn('subscription event for an organization Keyhaven does not know ignored');
      return null;
    }
    return { organizationId, ...subscriptionFields(sub, deleted) };
  }
}
