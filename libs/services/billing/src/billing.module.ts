import { Module } from '@nestjs/common';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { BillingDomainModule } from '@keyhaven/domain-billing';
import { OrganizationBillingController } from './organization-billing.controller';
import { StripeWebhookController } from './stripe-webhook.controller';

/** The billing service: mounted under `/billing` both in the all-in-one server and as its own app (Stripe's webhooks). */
@Module({
  imports: [AuthDomainModule, AdminConsoleDomainModule, BillingDomainModule],
  controllers: [StripeWebhookController],
})
export class BillingServiceModule {}

/**
 * The organization billing routes the web vault calls under `/api` (`organizations/{id}/subscription`,
 * `…/billing`, `…/seat`, `…/cancel`, `…/reinstate`): mounted next to the API service, by the all-in-one
 * and by the api app.
 */
@Module({
  imports: [AuthDomainModule, AdminConsoleDomainModule, BillingDomainModule],
  controllers: [OrganizationBillingController],
})
export class BillingApiModule {}
