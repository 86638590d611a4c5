import { z } from 'zod';
import { list, urlWithProtocols } from './fields';

// Billing: off (unlimited seats), or plans, seats and subscriptions through Stripe.

/** The paid plans a Stripe price can be set for. */
export const BILLING_PRICE_KEYS = ['teams-monthly', 'teams-yearly', 'enterprise-monthly', 'enterprise-yearly'] as const;
export type BillingPriceKey = (typeof BILLING_PRICE_KEYS)[number];

const PRICE_ENTRY = /^(teams|enterprise)-(monthly|yearly)=(price_[A-Za-z0-9_]{1,200})$/;
const stripePrices = list(
  (e) => PRICE_ENTRY.test(e),
  'must be plan=price_… entries, comma-separated (plans: teams-monthly, teams-yearly, enterprise-monthly, enterprise-yearly)',
).transform((entries) => {
  const prices: Partial<Record<BillingPriceKey, string>> = {};
  for (const entry of entries) {
    const [key = '', price = ''] = entry.split('=');
    prices[key as BillingPriceKey] = price;
  }
  return prices;
});

export const billingShape = {
  /** `off` (default): no billing route answers and every organization has unlimited seats; `stripe`: plans, seats and subscriptions through Stripe. */
  BILLING: z.enum(['off', 'stripe'], { message: 'must be off or stripe' }).default('off'),
  /** Stripe's secret API key (`sk_live_…`/`sk_test_…`, or a restricted `rk_…` key); required with BILLING=stripe. */
  STRIPE_SECRET_KEY: z.string().optional(),
  /** The signing secret of the webhook endpoint `/billing/stripe/webhook` (`whsec_…`); required with BILLING=stripe. */
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  /** Plan → Stripe price (per seat): `teams-monthly=price_…,teams-yearly=price_…,enterprise-monthly=price_…,enterprise-yearly=price_…`. */
  STRIPE_PRICES: stripePrices,
  /** Stripe's API base URL; only tests point it elsewhere (a local stand-in). */
  STRIPE_API_URL: urlWithProtocols(['https:', 'http:'], 'https://api.stripe.com').default('https://api.stripe.com'),
  /** Seats of an organization on the Free plan (no subscription) when billing is on. */
  BILLING_FREE_SEATS: z.coerce.number().int().min(1).max(1000000).default(2),
  /** Days an organization whose payment failed keeps working before it is disabled (its data kept). */
  BILLING_GRACE_DAYS: z.coerce.number().min(0).max(365).default(14),
  /** How often one instance disables organizations whose grace period is over. */
  BILLING_JOBS_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86400).default(3600),
};

/** With BILLING=stripe the keys and every plan's price are required, so a half-set-up billing never boots. */
export function billingComplete(
  value: {
    BILLING: 'off' | 'stripe';
    STRIPE_SECRET_KEY?: string | undefined;
    STRIPE_WEBHOOK_SECRET?: string | undefined;
    STRIPE_PRICES: Partial<Record<BillingPriceKey, string>>;
  },
  ctx: z.RefinementCtx,
): void {
  if (value.BILLING !== 'stripe') return;
  if (!value.STRIPE_SECRET_KEY || !/^(sk|rk)_[A-Za-z0-9_]+$/.test(value.STRIPE_SECRET_KEY)) {
    ctx.addIssue({
      code: 'custom',
      path: ['STRIPE_SECRET_KEY'],
      message: 'is required with BILLING=stripe (sk_… or rk_…)',
    });
  }
  if (!value.STRIPE_WEBHOOK_SECRET || !value.STRIPE_WEBHOOK_SECRET.startsWith('whsec_')) {
    ctx.addIssue({
      code: 'custom',
      path: ['STRIPE_WEBHOOK_SECRET'],
      message: 'is required with BILLING=stripe (whsec_…)',
    });
  }
  const missing = BILLING_PRICE_KEYS.filter((k) => value.STRIPE_PRICES[k] === undefined);
  if (missing.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['STRIPE_PRICES'],
      message: `needs a price for ${missing.join(', ')} with BILLING=stripe`,
    });
  }
}
