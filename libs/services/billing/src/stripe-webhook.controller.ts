import { Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { rawBodyOf } from '@keyhaven/http';
import { StripeWebhooks } from '@keyhaven/domain-billing';
import { Public } from '@keyhaven/platform-auth';

/**
 * `POST /billing/stripe/webhook`: Stripe's events, authenticated by their signature (not a token).
 * 200 for every verified event (applied, already handled, or of a type Keyhaven ignores), 400 for a
 * bad signature or a stale timestamp (Stripe retries those).
 */
@Controller('stripe/webhook')
export class StripeWebhookController {
  constructor(private readonly webhooks: StripeWebhooks) {}

  @Post()
  @Public()
  @HttpCode(200)
  async receive(
    @Req() request: FastifyRequest,
    @Headers('stripe-signature') signature: string | undefined,
  ): Promise<Record<string, unknown>> {
    const outcome = await this.webhooks.receive(rawBodyOf(request), signature);
    return { received: true, outcome };
  }
}
