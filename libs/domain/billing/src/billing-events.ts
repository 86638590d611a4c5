import { Injectable } from '@nestjs/common';
import type { EventType } from '@keyhaven/contracts';
import { EventRecorder } from '@keyhaven/db';

/**
 * Billing has no Bitwarden event numbers (Bitwarden's cloud keeps billing out of the event log).
 * Keyhaven records every billing change in the organization's event log under its own numbers, in the
 * 9100 range next to the operator's 9000s; the acting user is the owner who asked, or none for what
 * Stripe reported (a webhook carries no user).
 */
export const BillingEventType = {
  Checkout_Started: 9100,
  Subscription_Started: 9101,
  Subscription_SeatsChanged: 9102,
  Subscription_PlanChanged: 9103,
  Subscription_CancelScheduled: 9104,
  Subscription_Reinstated: 9105,
  Subscription_Ended: 9106,
  Payment_Failed: 9107,
  Organization_GracePeriodStarted: 9108,
  Organization_Disabled: 9109,
  Organization_Reenabled: 9110,
  Invoice_Paid: 9111,
} as const;
export type BillingEventType = (typeof BillingEventType)[keyof typeof BillingEventType];

@Injectable()
export class BillingEvents {
  constructor(private readonly recorder: EventRecorder) {}

  /** In the caller's unit of work; the acting user (and address) come from the request, if any. */
  async record(organizationId: string, types: readonly BillingEventType[]): Promise<void> {
    if (types.length === 0) return;
    await this.recorder.record(
      types.map((type) => ({
        // Outside Bitwarden's EventType on purpose (see above); the event table stores any number.
        type: type as unknown as EventType,
        organizationId,
      })),
    );
  }
}
