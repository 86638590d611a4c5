import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { notFound } from '@keyhaven/contracts';
import {
  MemberRepository,
  MemberType,
  OrganizationRepository,
  SsoProfileReader,
  organizationJson,
  profileOrganizationJson,
  type Membership,
} from '@keyhaven/domain-admin-console';
import { BillingRepository, type Invoice, type Subscription } from './billing.repository';
import { BillingSwitch } from './billing-switch';
import { planName, planType } from './plans';
import { paysForSeats } from './standing';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
/** Stripe amounts are in the currency's minor unit; the web vault shows major units. */
const major = (minor: number | null): number => (minor ?? 0) / 100;

/**
 * The subscription, invoice and seat fields the web vault's organization billing pages read
 * (`OrganizationSubscriptionResponse`, `BillingResponse`, `BillingHistoryResponse`,
 * `OrganizationBillingMetadataResponse`), from PostgreSQL only.
 */
@Injectable()
export class BillingReads {
  constructor(
    private readonly billing: BillingRepository,
    private readonly organizations: OrganizationRepository,
    private readonly members: MemberRepository,
    private readonly ssoProfiles: SsoProfileReader,
    private readonly enabled: BillingSwitch,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** `GET organizations/{id}/subscription`: the organization with its plan, seats and subscription. */
  async subscription(organizationId: string): Promise<Record<string, unknown>> {
    this.enabled.require();
    const org = await this.organizations.findById(organizationId);
    if (!org) throw notFound('Organization');
    const sub = await this.billing.find(organizationId);
    const paying = sub !== null && paysForSeats(sub.state);
    const seatsUsed = await this.members.countSeatsUsed(organizationId);
    return {
      ...organizationJson(org, this.config.ATTACHMENTS_ORG_MAX_STORAGE_GB),
      plan: paying ? planName(sub.plan, sub.interval) : 'Free',
      planType: paying ? planType(sub.plan, sub.interval) : 0,
      seats: paying ? sub.seats : this.config.BILLING_FREE_SEATS,
      occupiedSeatCount: seatsUsed,
      storageName: null,
      storageGb: null,
      subscription: sub ? subscriptionJson(sub) : null,
      upcomingInvoice:
        paying && !sub.cancelAtPeriodEnd && sub.state !== 'disabled'
          ? { date: iso(sub.periodEnd), amount: major((sub.unitAmount ?? 0) * sub.seats) }
          : null,
      customerDiscount: null,
      expiration: paying ? iso(sub.state === 'grace' ? sub.graceEnds : sub.periodEnd) : null,
      expirationWithoutGracePeriod: paying ? iso(sub.periodEnd) : null,
      exemptFromBillingAutomation: false,
      object: 'organizationSubscription',
    };
  }

  /** The owner's `ProfileOrganizationResponse` after a subscription change (its `seats` the new limit). */
  async profileOrganization(actor: Membership): Promise<Record<string, unknown>> {
    const [org, sso] = await Promise.all([
      this.organizations.findById(actor.organizationId),
      actor.userId ? this.ssoProfiles.forMember(actor.organizationId, actor.userId) : undefined,
    ]);
    if (!org) throw notFound('Organization');
    return profileOrganizationJson(org, actor, sso);
  }

  /** `GET organizations/{id}/billing`. */
  async billingSummary(organizationId: string): Promise<Record<string, unknown>> {
    const invoices = await this.invoices(organizationId);
    return { balance: 0, paymentSource: null, invoices, transactions: [], object: 'billing' };
  }

  /** `GET organizations/{id}/billing/history`. */
  async history(organizationId: string): Promise<Record<string, unknown>> {
    return { invoices: await this.invoices(organizationId), transactions: [], object: 'billingHistory' };
  }

  /** `GET organizations/{id}/billing/metadata`. */
  async metadata(organizationId: string): Promise<Record<string, unknown>> {
    this.enabled.require();
    const sub = await this.billing.find(organizationId);
    const open = (await this.billing.invoices(organizationId, 20)).find((i) => i.status === 'open');
    return {
      isEligibleForSelfHost: false,
      isManaged: false,
      isOnSecretsManagerStandalone: false,
      isSubscriptionUnpaid: sub?.state === 'grace' || sub?.state === 'disabled',
      hasSubscription: sub !== null && paysForSeats(sub.state),
      hasOpenInvoice: open !== undefined,
      invoiceDueDate: null,
      invoiceCreatedDate: iso(open?.created ?? null),
      subPeriodEndDate: iso(sub?.periodEnd ?? null),
      object: 'organizationBillingMetadata',
    };
  }

  /**
   * `GET organizations/{id}/billing/vnext/warnings` (`OrganizationWarningsResponse`), any member: the
   * web vault shows its "suspended organization" dialog for `inactiveSubscription` — owners are asked to
   * add a payment method, everyone else to contact an owner. No free trials, resellers or tax ids here.
   */
  async warnings(actor: Membership): Promise<Record<string, unknown>> {
    this.enabled.require();
    const sub = await this.billing.find(actor.organizationId);
    const owner = actor.type === MemberType.Owner;
    return {
      freeTrial: null,
      inactiveSubscription:
        sub?.state === 'disabled' ? { resolution: owner ? 'add_payment_method' : 'contact_owner' } : null,
      resellerRenewal: null,
      taxId: null,
      scheduledPriceIncrease: null,
    };
  }

  private async invoices(organizationId: string): Promise<Record<string, unknown>[]> {
    this.enabled.require();
    if (!(await this.organizations.findById(organizationId))) throw notFound('Organization');
    return (await this.billing.invoices(organizationId)).map(invoiceJson);
  }
}

function subscriptionJson(sub: Subscription): Record<string, unknown> {
  const ended = sub.state === 'canceled';
  return {
    trialStartDate: null,
    trialEndDate: null,
    periodStartDate: iso(sub.periodStart),
    periodEndDate: iso(sub.periodEnd),
    cancelledDate: iso(sub.canceledAt),
    cancelAtEndDate: sub.cancelAtPeriodEnd,
    // Stripe's own status (active, past_due, unpaid, canceled…), as Bitwarden passes it on.
    status: sub.stripeStatus,
    cancelled: ended,
    items: [
      {
        productId: sub.priceId,
        name: planName(sub.plan, sub.interval),
        amount: major(sub.unitAmount),
        quantity: sub.seats,
        interval: sub.interval === 'yearly' ? 'year' : 'month',
        sponsoredSubscriptionItem: false,
        addonSubscriptionItem: false,
      },
    ],
    collectionMethod: 'charge_automatically',
    suspensionDate: sub.state === 'grace' ? iso(sub.graceEnds) : null,
    unpaidPeriodEndDate: sub.state === 'grace' || sub.state === 'disabled' ? iso(sub.periodEnd) : null,
    gracePeriod:
      sub.state === 'grace' && sub.graceEnds
        ? Math.max(0, Math.ceil((sub.graceEnds.getTime() - Date.now()) / 86400000))
        : null,
    // Keyhaven's own: where the organization stands (active, grace, disabled, canceled, incomplete).
    standing: sub.state,
  };
}

function invoiceJson(i: Invoice): Record<string, unknown> {
  return {
    url: i.hostedUrl,
    pdfUrl: i.pdfUrl,
    number: i.number,
    paid: i.status === 'paid',
    date: i.created.toISOString(),
    amount: major(i.status === 'paid' ? i.amountPaid : i.amountDue),
    currency: i.currency,
  };
}
