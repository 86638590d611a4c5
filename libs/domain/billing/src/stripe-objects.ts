import type { SubscriptionSnapshot } from './billing-lifecycle';

/**
 * Reading Stripe objects defensively: the fields Keyhaven uses, by name, whatever else an API version
 * adds or moves (a webhook endpoint's version may differ from the client's).
 */
export type Json = Record<string, unknown>;

export const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
export const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** An expandable field: the id, or the expanded object's id. */
export const idOf = (v: unknown): string | null => str(v) ?? str(obj(v)['id']);
export const time = (v: unknown): Date | null => {
  const n = num(v);
  return n === null ? null : new Date(n * 1000);
};
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A subscription's fields, from a webhook's object or an API answer. */
export function subscriptionFields(sub: Json, deleted: boolean): Omit<SubscriptionSnapshot, 'organizationId'> {
  const items = obj(sub['items'])['data'];
  const item = obj(Array.isArray(items) ? items[0] : undefined);
  const price = obj(item['price']);
  return {
    subscriptionId: str(sub['id']) ?? '',
    customerId: idOf(sub['customer']) ?? '',
    itemId: str(item['id']),
    priceId: idOf(item['price']),
    seats: Math.max(0, Math.trunc(num(item['quantity']) ?? 1)),
    unitAmount: num(price['unit_amount']),
    currency: str(price['currency']) ?? str(sub['currency']),
    status: str(sub['status']) ?? 'incomplete',
    deleted,
    // Periods moved to the items in 2025; older API versions have them on the subscription.
    periodStart: time(item['current_period_start']) ?? time(sub['current_period_start']),
    periodEnd: time(item['current_period_end']) ?? time(sub['current_period_end']),
    cancelAtPeriodEnd: sub['cancel_at_period_end'] === true,
    canceledAt: time(sub['canceled_at']),
  };
}
