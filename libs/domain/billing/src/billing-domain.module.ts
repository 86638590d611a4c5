import { Module } from '@nestjs/common';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { BillingEvents } from './billing-events';
import { BillingLifecycle } from './billing-lifecycle';
import { BillingMail } from './billing-mail';
import { BillingOverview } from './billing-overview';
import { BillingReads } from './billing-reads';
import { BillingRepository } from './billing.repository';
import { BillingService } from './billing.service';
import { BillingSwitch } from './billing-switch';
import { GracePeriodJob } from './grace-period.job';
import { StripeGateway } from './stripe-gateway';
import { StripeWebhooks } from './stripe-webhooks.service';
import { SubscriptionTermination } from './subscription-termination';

const exported = [BillingService, BillingReads, BillingOverview, StripeWebhooks, BillingSwitch, GracePeriodJob];

/**
 * Plans, subscriptions and Stripe. Seat limits reach the member code through the admin console's
 * SEAT_LIMIT port (the organization's seats, which this module keeps in step), so enforcement needs
 * no billing code on the invitation path. Deleting an organization cancels its subscription through the
 * admin console's deletion hooks (SubscriptionTermination).
 */
@Module({
  imports: [AdminConsoleDomainModule],
  providers: [
    ...exported,
    BillingEvents,
    BillingLifecycle,
    BillingMail,
    BillingRepository,
    StripeGateway,
    SubscriptionTermination,
  ],
  exports: exported,
})
export class BillingDomainModule {}
