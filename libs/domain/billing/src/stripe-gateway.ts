import { Inject, Injectable, Logger } from '@nestjs/common';
import Stripe from 'stripe';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { KeyhavenError, badRequest } from '@keyhaven/contracts';

/**
 * The one place that talks to Stripe's API (only from an owner's billing action, never from a login,
 * a sync or a webhook) and verifies webhook signatures. `STRIPE_API_URL` points the real client at a
 * local stand-in in tests.
 */
@Injectable()
export class StripeGateway {
  private client: Stripe | undefined;
  private readonly logger = new Logger('stripe');

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

  /**
   * An owner's call to Stripe, its failures in the owner's terms (never a 500): Stripe refusing the
   * request (an invalid request, a declined card) is a 400 with Stripe's reason; Stripe unreachable,
   * failing or rate-limiting, or refusing this server's key, is a 503 and nothing was changed.
   */
  async call<T>(action: (stripe: Stripe) => Promise<T>): Promise<T> {
    try {
      return await action(this.stripe);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError || error instanceof Stripe.errors.StripeCardError) {
        throw badRequest(`Stripe refused the request: ${error.message}`);
      }
      if (error instanceof Stripe.errors.StripeError) {
        const misconfigured =
          error instanceof Stripe.errors.StripeAuthenticationError ||
          error instanceof Stripe.errors.StripePermissionError;
        this.logger.warn(`Stripe call failed (${error.type}): ${error.message}`);
        throw new KeyhavenError(
          'unavailable',
          misconfigured
            ? "This server's Stripe key was refused; nothing was changed. Ask the operator to check STRIPE_SECRET_KEY."
            : 'Stripe cannot be reached right now; nothing was changed. Try again shortly.',
        );
      }
      throw error;
    }
  }

  /** The verified event, or a thrown StripeSignatureVerificationError (bad signature, stale timestamp). */
  verify(payload: Buffer, signature: string): Stripe.Event {
    return this.stripe.webhooks.constructEvent(payload, signature, this.config.STRIPE_WEBHOOK_SECRET ?? '');
  }
}
