import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';

/**
 * A local stand-in for the few Stripe API endpoints Keyhaven calls, shaped after Stripe's API
 * reference (form-encoded requests with bracketed keys, JSON objects with `object` names, errors as
 * `{error: {type, message}}`): create a Checkout session, create a customer-portal session, update a
 * subscription (quantity and price with proration, cancel_at_period_end), cancel a subscription at once
 * (`DELETE /v1/subscriptions/{id}`), retrieve one. It keeps the subscriptions it knows so
 * the test can send the webhooks Stripe would send about them, signed as Stripe signs them.
 */

export interface StandInRequest {
  readonly method: string;
  readonly path: string;
  readonly form: URLSearchParams;
  readonly authorization: string | undefined;
}

export interface StandInSubscription {
  id: string;
  customer: string;
  itemId: string;
  price: string;
  unitAmount: number;
  quantity: number;
  status: string;
  cancelAtPeriodEnd: boolean;
  periodStart: number;
  periodEnd: number;
  metadata: Record<string, string>;
}

const id = (prefix: string): string => `${prefix}_${randomBytes(12).toString('hex')}`;

export class StripeStandIn {
  readonly requests: StandInRequest[] = [];
  readonly subscriptions = new Map<string, StandInSubscription>();
  private server: Server | undefined;
  private readonly signer = new Stripe('sk_test_signer_only');
  /** While true every call fails as during a Stripe outage (500 `api_error`; the client retries, then gives up). */
  outage = false;

  constructor(readonly webhookSecret: string) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        this.requests.push({ method: req.method ?? '', path, form, authorization: req.headers.authorization });
        const [status, body] = this.answer(req.method ?? '', path, form);
        res
          .writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') })
          .end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }

  private answer(method: string, path: string, form: URLSearchParams): [number, unknown] {
    if (this.outage) return [500, { error: { type: 'api_error', message: 'An unknown error occurred' } }];
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      const session = id('cs_test');
      return [
        200,
        {
          id: session,
          object: 'checkout.session',
          mode: form.get('mode'),
          client_reference_id: form.get('client_reference_id'),
          customer: form.get('customer'),
          customer_email: form.get('customer_email'),
          metadata: { organizationId: form.get('metadata[organizationId]') },
          success_url: form.get('success_url'),
          cancel_url: form.get('cancel_url'),
          status: 'open',
          url: `https://checkout.stripe.com/c/pay/${session}`,
        },
      ];
    }
    if (method === 'POST' && path === '/v1/billing_portal/sessions') {
      const session = id('bps');
      return [
        200,
        {
          id: session,
          object: 'billing_portal.session',
          customer: form.get('customer'),
          return_url: form.get('return_url'),
          url: `https://billing.stripe.com/p/session/${session}`,
        },
      ];
    }
    const update = /^\/v1\/subscriptions\/([A-Za-z0-9_]+)$/.exec(path);
    const missing = [
      404,
      { error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such subscription' } },
    ] as [number, unknown];
    if (method === 'DELETE' && update) {
      const sub = this.subscriptions.get(update[1] ?? '');
      if (!sub) return missing;
      // A subscription that has ended cannot be cancelled again.
      if (sub.status === 'canceled') {
        return [400, { error: { type: 'invalid_request_error', message: 'This subscription is already canceled.' } }];
      }
      sub.status = 'canceled';
      return [200, this.subscriptionObject(sub)];
    }
    if (method === 'GET' && update) {
      const sub = this.subscriptions.get(update[1] ?? '');
      return sub ? [200, this.subscriptionObject(sub)] : missing;
    }
    if (method === 'POST' && update) {
      const sub = this.subscriptions.get(update[1] ?? '');
      if (!sub) return missing;
      const quantity = form.get('items[0][quantity]');
      if (quantity !== null) {
        if (form.get('items[0][id]') !== sub.itemId) {
          return [400, { error: { type: 'invalid_request_error', message: 'No such subscription item' } }];
        }
        sub.quantity = Number(quantity);
      }
      const price = form.get('items[0][price]');
      if (price !== null) sub.price = price;
      const cancel = form.get('cancel_at_period_end');
      if (cancel !== null) sub.cancelAtPeriodEnd = cancel === 'true';
      return [200, this.subscriptionObject(sub)];
    }
    return [
      404,
      { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` } },
    ];
  }

  /** What Checkout would create once the customer paid. */
  createSubscription(organizationId: string, price: string, quantity: number, unitAmount: number): StandInSubscription {
    const now = Math.floor(Date.now() / 1000);
    const sub: StandInSubscription = {
      id: id('sub'),
      customer: id('cus'),
      itemId: id('si'),
      price,
      unitAmount,
      quantity,
      status: 'active',
      cancelAtPeriodEnd: false,
      periodStart: now,
      periodEnd: now + 30 * 86400,
      metadata: { organizationId },
    };
    this.subscriptions.set(sub.id, sub);
    return sub;
  }

  /** A subscription as the 2025+ API shapes it (periods on the item). */
  subscriptionObject(sub: StandInSubscription): Record<string, unknown> {
    return {
      id: sub.id,
      object: 'subscription',
      customer: sub.customer,
      status: sub.status,
      cancel_at_period_end: sub.cancelAtPeriodEnd,
      canceled_at: sub.status === 'canceled' ? Math.floor(Date.now() / 1000) : null,
      currency: 'usd',
      metadata: sub.metadata,
      items: {
        object: 'list',
        data: [
          {
            id: sub.itemId,
            object: 'subscription_item',
            quantity: sub.quantity,
            current_period_start: sub.periodStart,
            current_period_end: sub.periodEnd,
            price: { id: sub.price, object: 'price', unit_amount: sub.unitAmount, currency: 'usd' },
          },
        ],
      },
    };
  }

  invoiceObject(sub: StandInSubscription, invoiceId: string, paid: boolean): Record<string, unknown> {
    const amount = sub.unitAmount * sub.quantity;
    return {
      id: invoiceId,
      object: 'invoice',
      customer: sub.customer,
      number: `KH-${invoiceId.slice(-6)}`,
      status: paid ? 'paid' : 'open',
      amount_due: amount,
      amount_paid: paid ? amount : 0,
      currency: 'usd',
      created: Math.floor(Date.now() / 1000),
      hosted_invoice_url: `https://invoice.stripe.com/i/${invoiceId}`,
      invoice_pdf: `https://pay.stripe.com/invoice/${invoiceId}/pdf`,
      status_transitions: { paid_at: paid ? Math.floor(Date.now() / 1000) : null },
      parent: { type: 'subscription_details', subscription_details: { subscription: sub.id } },
    };
  }

  /** An event envelope as Stripe posts it. */
  event(type: string, object: Record<string, unknown>, created = Math.floor(Date.now() / 1000)): string {
    return JSON.stringify({
      id: id('evt'),
      object: 'event',
      api_version: '2026-01-28.clover',
      created,
      type,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object },
    });
  }

  /** The `Stripe-Signature` header for a payload, with Stripe's scheme (t=…,v1=HMAC-SHA256). */
  sign(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
    return this.signer.webhooks.generateTestHeaderString({
      payload,
      secret: options.secret ?? this.webhookSecret,
      ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
    });
  }
}
