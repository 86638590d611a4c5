import type { BillingStanding } from './billing.repository';

/** What moves a subscription: a Stripe snapshot of it, a payment result, or the end of its grace period. */
export type BillingInput =
  | { readonly kind: 'snapshot'; readonly status: string; readonly deleted: boolean }
  | { readonly kind: 'payment-failed' }
  | { readonly kind: 'paid' }
  | { readonly kind: 'grace-over' };

/**
 * The standing after an input. A failed payment opens the grace period (once; further failures keep
 * its end), its end or Stripe giving up (`unpaid`, or a cancellation while unpaid) disables the
 * organization, and a payment (or Stripe reporting the subscription active again) brings it back.
 * A cancellation in good standing returns the organization to the Free plan.
 */
export function nextStanding(previous: BillingStanding | null, input: BillingInput): BillingStanding | null {
  const unpaid = previous === 'grace' || previous === 'disabled';
  switch (input.kind) {
    case 'payment-failed':
      return previous === 'active' ? 'grace' : previous;
    case 'paid':
      return unpaid ? 'active' : previous;
    case 'grace-over':
      return previous === 'grace' ? 'disabled' : previous;
    case 'snapshot': {
      if (input.deleted || input.status === 'canceled' || input.status === 'incomplete_expired') {
        return unpaid ? 'disabled' : 'canceled';
      }
      switch (input.status) {
        case 'active':
        case 'trialing':
          return 'active';
        case 'past_due':
          return previous === 'disabled' ? 'disabled' : 'grace';
        case 'unpaid':
        case 'paused':
          return 'disabled';
        default:
          // `incomplete`: the first payment has not gone through; nothing is granted yet.
          return previous ?? 'incomplete';
      }
    }
  }
}

/** Whether the subscription's seats apply (otherwise the Free plan's). */
export const paysForSeats = (standing: BillingStanding | null): boolean =>
  standing === 'active' || standing === 'grace' || standing === 'disabled';
