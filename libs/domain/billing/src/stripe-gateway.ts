import { Inject, Injectable } from '@nestjs/common';
import Stripe from 'stripe';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';

/**
 * The one place that talks to Stripe's API (only from an owner's billing action, never from a login,
 * a sync or a webhook) and verifies webhook signatures. `STRIPE_API_URL` points the real client at a
 * local stand-in in tests.
 */
@Injectable()
export class StripeGateway {
  private client: Stripe | undefined;

  constructor(@Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig) {}

  get stripe(): Stripe {
    if (!this.client) {
      const api = new URL(this.config.STRIPE_API_URL);
      const protocol = api.protocol === 'http:' ? 'http' : 'https';
      this.client = new Stripe(this.config.STRIPE_SECRET_KEY ?? '', {
        host: api.hostname,
        port: api.port === '' ? (protocol === 'http' ? 80 : 443) : Number(api.port),
        protocol,
        maxNetworkRetries: 2,
        timeout: 20000,
        appInfo: { name: 'Keyhaven' },
      });
    }
    return this.client;
  }

  /** The verified event, or a thrown StripeSignatureVerificationError (bad signature, stale timestamp). */
  verify(payload: Buffer, signature: string): Stripe.Event {
    return this.stripe.webhooks.constructEvent(payload, signature, this.config.STRIPE_WEBHOOK_SECRET ?? '');
  }
}
