import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Billing through Stripe (issue 17). One subscription row per organization that ever had one (no row:
 * the Free plan), every Stripe event id handled (each is applied exactly once), and the invoices the
 * web vault lists and the admin portal sums per month. `stripe_created` is the `created` of the last
 * subscription event applied, so an older one arriving later changes nothing.
 */
export class Billing1797300000000 implements MigrationInterface {
  name = 'Billing1797300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE billing_subscription (
        organization_id uuid PRIMARY KEY REFERENCES organization (id) ON DELETE CASCADE,
        customer_id text NOT NULL,
        subscription_id text NOT NULL UNIQUE,
        item_id text,
        price_id text,
        plan text NOT NULL,
        plan_interval text NOT NULL,
        seats integer NOT NULL,
        unit_amount integer,
        currency text,
        stripe_status text NOT NULL,
        state text NOT NULL,
        period_start timestamptz,
        period_end timestamptz,
        cancel_at_period_end boolean NOT NULL DEFAULT false,
        canceled_at timestamptz,
        grace_ends timestamptz,
        stripe_created bigint NOT NULL DEFAULT 0,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL
      );
      CREATE INDEX billing_subscription_grace_idx ON billing_subscription (grace_ends) WHERE state = 'grace';
      CREATE INDEX billing_subscription_customer_idx ON billing_subscription (customer_id);

      CREATE TABLE billing_stripe_event (
        id text PRIMARY KEY,
        type text NOT NULL,
        created timestamptz NOT NULL,
        received_date timestamptz NOT NULL
      );

      CREATE TABLE billing_invoice (
        id text PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        number text,
        status text NOT NULL,
        amount_due integer NOT NULL,
        amount_paid integer NOT NULL,
        currency text NOT NULL,
        hosted_url text,
        pdf_url text,
        created timestamptz NOT NULL,
        paid_date timestamptz
      );
      CREATE INDEX billing_invoice_org_idx ON billing_invoice (organization_id, created DESC);
      CREATE INDEX billing_invoice_paid_idx ON billing_invoice (paid_date) WHERE paid_date IS NOT NULL;
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
