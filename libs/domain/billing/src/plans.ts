import type { BillingPriceKey, KeyhavenConfig } from '@keyhaven/config';

export type PaidPlan = 'teams' | 'enterprise';
export type PlanInterval = 'monthly' | 'yearly';

/**
 * Bitwarden's plan numbers (`PlanType`) the web vault shows a plan by: Free, and the current Teams and
 * Enterprise plans billed monthly or annually. A price Keyhaven does not know keeps the subscription
 * working under the Teams monthly number.
 */
export const PlanType = {
  Free: 0,
  TeamsMonthly: 17,
  TeamsAnnually: 18,
  EnterpriseMonthly: 19,
  EnterpriseAnnually: 20,
} as const;

export interface PlanChoice {
  readonly plan: PaidPlan;
  readonly interval: PlanInterval;
}

export function planType(plan: string, interval: string): number {
  if (plan === 'enterprise') return interval === 'yearly' ? PlanType.EnterpriseAnnually : PlanType.EnterpriseMonthly;
  if (plan === 'teams') return interval === 'yearly' ? PlanType.TeamsAnnually : PlanType.TeamsMonthly;
  return PlanType.Free;
}

/** The plan a Bitwarden plan number stands for (the web vault's upgrade dialog sends one); null for any other. */
export function planOfType(type: number): PlanChoice | null {
  switch (type) {
    case PlanType.TeamsMonthly:
      return { plan: 'teams', interval: 'monthly' };
    case PlanType.TeamsAnnually:
      return { plan: 'teams', interval: 'yearly' };
    case PlanType.EnterpriseMonthly:
      return { plan: 'enterprise', interval: 'monthly' };
    case PlanType.EnterpriseAnnually:
      return { plan: 'enterprise', interval: 'yearly' };
    default:
      return null;
  }
}

export function planName(plan: string, interval: string): string {
  if (plan === 'free') return 'Free';
  const name = plan === 'enterprise' ? 'Enterprise' : 'Teams';
  return `${name} (${interval === 'yearly' ? 'annually' : 'monthly'})`;
}

/** The Stripe price configured for a plan (validated at boot, so present with BILLING=stripe). */
export function priceFor(config: KeyhavenConfig, choice: PlanChoice): string {
  const key: BillingPriceKey = `${choice.plan}-${choice.interval}`;
  const price = config.STRIPE_PRICES[key];
  if (!price) throw new Error(`no Stripe price for ${key}`);
  return price;
}

/** Which plan a Stripe price stands for; a price set up in Stripe by hand counts as Teams monthly. */
export function planOfPrice(config: KeyhavenConfig, priceId: string | null): PlanChoice {
  for (const [key, price] of Object.entries(config.STRIPE_PRICES)) {
    if (price === priceId) {
      const [plan, interval] = key.split('-') as [PaidPlan, PlanInterval];
      return { plan, interval };
    }
  }
  return { plan: 'teams', interval: 'monthly' };
}
