import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

/** Where an organization stands with billing; `free` is the state of one without a row. */
export type BillingStanding = 'incomplete' | 'active' | 'grace' | 'disabled' | 'canceled';

export interface Subscription {
  readonly organizationId: string;
  readonly customerId: string;
  readonly subscriptionId: string;
  readonly itemId: string | null;
  readonly priceId: string | null;
  readonly plan: string;
  readonly interval: string;
  readonly seats: number;
  readonly unitAmount: number | null;
  readonly currency: string | null;
  readonly stripeStatus: string;
  readonly state: BillingStanding;
  readonly periodStart: Date | null;
  readonly periodEnd: Date | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly canceledAt: Date | null;
  readonly graceEnds: Date | null;
  /** `created` (Unix seconds) of the newest Stripe event applied to this subscription. */
  readonly stripeCreated: number;
}

export interface Invoice {
  readonly id: string;
  readonly organizationId: string;
  readonly number: string | null;
  readonly status: string;
  readonly amountDue: number;
  readonly amountPaid: number;
  readonly currency: string;
  readonly hostedUrl: string | null;
  readonly pdfUrl: string | null;
  readonly created: Date;
  readonly paidDate: Date | null;
}

interface SubscriptionRow {
  organization_id: string;
  customer_id: string;
  subscription_id: string;
  item_id: string | null;
  price_id: string | null;
  plan: string;
  plan_interval: string;
  seats: number;
  unit_amount: number | null;
  currency: string | null;
  stripe_status: string;
  state: BillingStanding;
  period_start: Date | null;
  period_end: Date | null;
  cancel_at_period_end: boolean;
  canceled_at: Date | null;
  grace_ends: Date | null;
  stripe_created: string | number;
}

const date = (d: Date | null): Date | null => (d === null ? null : new Date(d));

const toSubscription = (r: SubscriptionRow): Subscription => ({
  organizationId: r.organization_id,
  customerId: r.customer_id,
  subscriptionId: r.subscription_id,
  itemId: r.item_id,
  priceId: r.price_id,
  plan: r.plan,
  interval: r.plan_interval,
  seats: r.seats,
  unitAmount: r.unit_amount,
  currency: r.currency,
  stripeStatus: r.stripe_status,
  state: r.state,
  periodStart: date(r.period_start),
  periodEnd: date(r.period_end),
  cancelAtPeriodEnd: r.cancel_at_period_end,
  canceledAt: date(r.canceled_at),
  graceEnds: date(r.grace_ends),
  stripeCreated: Number(r.stripe_created),
});

interface InvoiceRow {
  id: string;
  organization_id: string;
  number: string | null;
  status: string;
  amount_due: number;
  amount_paid: number;
  currency: string;
  hosted_url: string | null;
  pdf_url: string | null;
  created: Date;
  paid_date: Date | null;
}

const toInvoice = (r: InvoiceRow): Invoice => ({
  id: r.id,
  organizationId: r.organization_id,
  number: r.number,
  status: r.status,
  amountDue: r.amount_due,
  amountPaid: r.amount_paid,
  currency: r.currency,
  hostedUrl: r.hosted_url,
  pdfUrl: r.pdf_url,
  created: new Date(r.created),
  paidDate: date(r.paid_date),
});

/** The billing tables: subscriptions, handled Stripe event ids, invoices. */
@Injectable()
export class BillingRepository {
  constructor(private readonly db: Database) {}

  async find(organizationId: string): Promise<Subscription | null> {
    const rows = await this.db.rows<SubscriptionRow>('SELECT * FROM billing_subscription WHERE organization_id = $1', [
      organizationId,
    ]);
    return rows[0] ? toSubscription(rows[0]) : null;
  }

  /** The row locked for the rest of the transaction, so two webhooks for one organization apply in turn. */
  async findForUpdate(organizationId: string): Promise<Subscription | null> {
    const rows = await this.db.rows<SubscriptionRow>(
      'SELECT * FROM billing_subscription WHERE organization_id = $1 FOR UPDATE',
      [organizationId],
    );
    return rows[0] ? toSubscription(rows[0]) : null;
  }

  async organizationOfCustomer(customerId: string): Promise<string | null> {
    const rows = await this.db.rows<{ organization_id: string }>(
      'SELECT organization_id FROM billing_subscription WHERE customer_id = $1 ORDER BY revision_date DESC LIMIT 1',
      [customerId],
    );
    return rows[0]?.organization_id ?? null;
  }

  async save(s: Subscription): Promise<void> {
    await this.db.execute(
      `INSERT INTO billing_subscription (organization_id, customer_id, subscription_id, item_id, price_id, plan, plan_interval,
         seats, unit_amount, currency, stripe_status, state, period_start, period_end, cancel_at_period_end, canceled_at,
         grace_ends, stripe_created, creation_date, revision_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, now(), now())
       ON CONFLICT (organization_id) DO UPDATE SET customer_id = EXCLUDED.customer_id,
         subscription_id = EXCLUDED.subscription_id, item_id = EXCLUDED.item_id, price_id = EXCLUDED.price_id,
         plan = EXCLUDED.plan, plan_interval = EXCLUDED.plan_interval, seats = EXCLUDED.seats,
         unit_amount = EXCLUDED.unit_amount, currency = EXCLUDED.currency, stripe_status = EXCLUDED.stripe_status,
         state = EXCLUDED.state, period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end,
         cancel_at_period_end = EXCLUDED.cancel_at_period_end, canceled_at = EXCLUDED.canceled_at,
         grace_ends = EXCLUDED.grace_ends, stripe_created = EXCLUDED.stripe_created, revision_date = now()`,
      [
        s.organizationId,
        s.customerId,
        s.subscriptionId,
        s.itemId,
        s.priceId,
        s.plan,
        s.interval,
        s.seats,
        s.unitAmount,
        s.currency,
        s.stripeStatus,
        s.state,
        s.periodStart,
        s.periodEnd,
        s.cancelAtPeriodEnd,
        s.canceledAt,
        s.graceEnds,
        s.stripeCreated,
      ],
    );
  }

  /** Records a Stripe event id; false when it was handled before (a replay or a retry). */
  async claimEvent(id: string, type: string, created: number): Promise<boolean> {
    const rows = await this.db.rows<{ id: string }>(
      `INSERT INTO billing_stripe_event (id, type, created, received_date) VALUES ($1, $2, to_timestamp($3), now())
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [id, type, created],
    );
    return rows.length > 0;
  }

  /** Inserts or refreshes an invoice; a paid invoice stays paid whatever order its events come in. */
  async saveInvoice(i: Invoice): Promise<void> {
    await this.db.execute(
      `INSERT INTO billing_invoice (id, organization_id, number, status, amount_due, amount_paid, currency, hosted_url, pdf_url, created, paid_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (id) DO UPDATE SET number = COALESCE(EXCLUDED.number, billing_invoice.number),
         status = CASE WHEN billing_invoice.status = 'paid' THEN 'paid' ELSE EXCLUDED.status END,
         amount_due = EXCLUDED.amount_due, amount_paid = GREATEST(billing_invoice.amount_paid, EXCLUDED.amount_paid),
         hosted_url = COALESCE(EXCLUDED.hosted_url, billing_invoice.hosted_url),
         pdf_url = COALESCE(EXCLUDED.pdf_url, billing_invoice.pdf_url),
         paid_date = COALESCE(billing_invoice.paid_date, EXCLUDED.paid_date)`,
      [
        i.id,
        i.organizationId,
        i.number,
        i.status,
        i.amountDue,
        i.amountPaid,
        i.currency,
        i.hostedUrl,
        i.pdfUrl,
        i.created,
        i.paidDate,
      ],
    );
  }

  async invoices(organizationId: string, limit = 50): Promise<Invoice[]> {
    const rows = await this.db.rows<InvoiceRow>(
      'SELECT * FROM billing_invoice WHERE organization_id = $1 ORDER BY created DESC, id LIMIT $2',
      [organizationId, limit],
    );
    return rows.map(toInvoice);
  }

  /** Subscriptions whose grace period is over: `organizationId`s, oldest first. */
  async graceExpired(now: Date, limit: number): Promise<string[]> {
    const rows = await this.db.rows<{ organization_id: string }>(
      `SELECT organization_id FROM billing_subscription WHERE state = 'grace' AND grace_ends <= $1
       ORDER BY grace_ends LIMIT $2`,
      [now, limit],
    );
    return rows.map((r) => r.organization_id);
  }

  /** Every subscription with its organization's name and seats in use (one query), for the operator. */
  async overview(): Promise<(Subscription & { organizationName: string; seatsUsed: number })[]> {
    const rows = await this.db.rows<SubscriptionRow & { organization_name: string; seats_used: number }>(
      `SELECT s.*, o.name AS organization_name,
         (SELECT count(*)::int FROM organization_user m WHERE m.organization_id = s.organization_id AND m.status <> -1) AS seats_used
       FROM billing_subscription s JOIN organization o ON o.id = s.organization_id
       ORDER BY o.name, s.organization_id`,
    );
    return rows.map((r) => ({ ...toSubscription(r), organizationName: r.organization_name, seatsUsed: r.seats_used }));
  }

  /** Amounts paid per calendar month (UTC) and currency, the last `months` months. */
  async revenueByMonth(months: number): Promise<{ month: string; currency: string; amount: number }[]> {
    const rows = await this.db.rows<{ month: string; currency: string; amount: string | number }>(
      `SELECT to_char(date_trunc('month', paid_date AT TIME ZONE 'UTC'), 'YYYY-MM') AS month, currency,
         sum(amount_paid)::bigint AS amount
       FROM billing_invoice
       WHERE paid_date IS NOT NULL
         AND paid_date >= (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => $1)) AT TIME ZONE 'UTC'
       GROUP BY 1, 2 ORDER BY 1, 2`,
      [months - 1],
    );
    return rows.map((r) => ({ month: r.month, currency: r.currency, amount: Number(r.amount) }));
  }
}
