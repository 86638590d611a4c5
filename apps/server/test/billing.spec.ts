import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  MemberType,
  assertApiError,
  call,
  createOrg,
  createOrgItem,
  newPerson,
  ok,
  type Org,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { StripeStandIn, type StandInSubscription } from './stripe-stand-in';

/**
 * Billing through Stripe (issue 17), against a local stand-in for Stripe's API (the real `stripe`
 * client pointed at it) and webhooks signed as Stripe signs them: Free plan → Checkout → active →
 * seat change → cancel/reinstate → failed payment → grace → disabled → paid → active, each step read
 * back through the routes the web vault reads; webhook negatives; seat limits through invitation,
 * restore and the public API. Then BILLING=off: unlimited seats and no billing route.
 */

const WEBHOOK_SECRET = 'whsec_keyhaven_test_secret';
const ADMIN_TOKEN = 'billing-admin-token-long-enough-1234567890';
const PRICES =
  'teams-monthly=price_teams_m,teams-yearly=price_teams_y,enterprise-monthly=price_ent_m,enterprise-yearly=price_ent_y';

interface SubscriptionView {
  planType: number;
  seats: number;
  enabled: boolean;
  subscription: {
    status: string;
    standing: string;
    cancelAtEndDate: boolean;
    items: { quantity: number; amount: number; interval: string }[];
  } | null;
  upcomingInvoice: { amount: number } | null;
}

async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeOnBackends('billing through Stripe', (backend) => {
  const stripe = new StripeStandIn(WEBHOOK_SECRET);
  let server: BackedServer;
  let owner: Person;
  let org: Org;
  let sub: StandInSubscription;
  let failedInvoice = '';
  let orgItem = '';
  const emails = (n: number, tag: string): string[] =>
    Array.from({ length: n }, (_, i) => `${tag}-${i}-${backend}@billing.example`);

  const view = async (): Promise<SubscriptionView> =>
    ok(
      await call<SubscriptionView>(server.http, owner.token, 'GET', `/api/organizations/${org.id}/subscription`),
      'subscription',
    );
  const inviteMany = (list: string[]) =>
    call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/users/invite`, {
      emails: list,
      type: MemberType.User,
      collections: [],
      groups: [],
    });
  const deliver = (payload: string, signature = stripe.sign(payload)) =>
    server.http.request<{ received?: boolean; outcome?: string; message?: string }>('POST', '/billing/stripe/webhook', {
      rawBody: payload,
      contentType: 'application/json; charset=utf-8',
      headers: { 'stripe-signature': signature },
    });
  const subscriptionEvent = (type: string, created?: number) =>
    stripe.event(type, stripe.subscriptionObject(sub), created);
  const billingEvents = async (): Promise<number[]> =>
    (
      await server.db.rows<{ type: number }>(
        `SELECT type FROM (SELECT (payload ->> 'type')::int AS type, payload ->> 'organizationId' AS org FROM event_outbox
           UNION ALL SELECT type, organization_id::text FROM event) e WHERE org = $1 AND type >= 9100 ORDER BY type`,
        [org.id],
      )
    ).map((r) => r.type);

  before(async () => {
    await stripe.start();
    server = await startAllInOne(backend, {
      BILLING: 'stripe',
      STRIPE_SECRET_KEY: 'sk_test_keyhaven',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_PRICES: PRICES,
      STRIPE_API_URL: stripe.url,
      BILLING_FREE_SEATS: '2',
      BILLING_GRACE_DAYS: '14',
      BILLING_JOBS_INTERVAL_SECONDS: '1',
      LOG_LEVEL: 'info',
      ADMIN_TOKEN: ADMIN_TOKEN,
    });
    owner = await newPerson(server.http, `owner-${backend}@billing.example`);
    org = await createOrg(server.http, owner, 'Billed Co');
    orgItem = await createOrgItem(server.http, org, owner.token, 'billed-item', [org.defaultCollection]);
  });

  after(async () => {
    await server.stop();
    await stripe.stop();
  });

  test('a new organization is on the Free plan: its seats are the cap, the next invitation is refused naming it', async () => {
    const free = await view();
    assert.equal(free.planType, 0);
    assert.equal(free.seats, 2);
    assert.equal(free.subscription, null);
    ok(await inviteMany(emails(1, 'free')), 'invite within the free seats');
    const refused = await inviteMany(emails(1, 'over-free'));
    assertApiError(refused, 400);
    assert.match(refused.text, /Seat limit reached: this organization's plan has 2 seats and 2 are in use/);
  });

  test('Checkout: the session asks Stripe for the plan price and seats; the subscription arrives by webhook', async () => {
    const admin = ok(
      await call<{ url: string }>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/billing/checkout`, {
        plan: 'teams',
        interval: 'monthly',
        seats: 5,
      }),
      'checkout',
    );
    assert.match(admin.url, /^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    const asked = stripe.requests.find((r) => r.path === '/v1/checkout/sessions');
    assert.ok(asked);
    assert.equal(asked.authorization, 'Bearer sk_test_keyhaven');
    assert.equal(asked.form.get('mode'), 'subscription');
    assert.equal(asked.form.get('line_items[0][price]'), 'price_teams_m');
    assert.equal(asked.form.get('line_items[0][quantity]'), '5');
    assert.equal(asked.form.get('subscription_data[metadata][organizationId]'), org.id);
    assert.equal(asked.form.get('customer_email'), owner.email);
    // Fewer seats than in use is refused before Stripe hears of it.
    const tooFew = await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/billing/checkout`, {
      plan: 'teams',
      seats: 1,
    });
    assertApiError(tooFew, 400);

    sub = stripe.createSubscription(org.id, 'price_teams_m', 5, 400);
    // Checkout's own event is of no use to Keyhaven: acknowledged and ignored.
    const completed = await deliver(
      stripe.event('checkout.session.completed', { id: 'cs_test_x', object: 'checkout.session' }),
    );
    assert.equal(completed.status, 200);
    assert.equal(completed.body.outcome, 'ignored');
    assert.equal((await deliver(subscriptionEvent('customer.subscription.created'))).body.outcome, 'applied');

    const active = await view();
    assert.equal(active.planType, 17);
    assert.equal(active.seats, 5);
    assert.equal(active.subscription?.status, 'active');
    const [item] = active.subscription.items;
    assert.ok(item);
    assert.equal(item.quantity, 5);
    assert.equal(item.amount, 4);
    assert.equal(active.upcomingInvoice?.amount, 20);
    ok(await inviteMany(emails(3, 'paid')), 'three more seats under the subscription');
    assertApiError(await inviteMany(emails(1, 'over-paid')), 400);
  });

  test('seat change: prorated in Stripe, shown at once; never below the seats in use', async () => {
    ok(
      await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/seat`, { seatAdjustment: 2 }),
      'add seats',
    );
    const asked = stripe.requests.filter((r) => r.path === `/v1/subscriptions/${sub.id}`).at(-1);
    assert.equal(asked?.form.get('items[0][quantity]'), '7');
    assert.equal(asked.form.get('items[0][id]'), sub.itemId);
    assert.equal(asked.form.get('proration_behavior'), 'create_prorations');
    assert.equal((await view()).seats, 7);
    // The webhook for the same change finds it applied.
    assert.equal((await deliver(subscriptionEvent('customer.subscription.updated'))).status, 200);
    assert.equal((await view()).seats, 7);
    const below = await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/seat`, {
      seatAdjustment: -3,
    });
    assertApiError(below, 400);
    assert.match(below.text, /uses 5 seats/);
  });

  test('cancel at period end, then reinstate; the customer portal opens for the customer', async () => {
    ok(await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/cancel`, {}), 'cancel');
    let now = await view();
    assert.equal(now.subscription?.cancelAtEndDate, true);
    assert.equal(now.upcomingInvoice, null);
    ok(await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/reinstate`), 'reinstate');
    now = await view();
    assert.equal(now.subscription?.cancelAtEndDate, false);
    const portal = ok(
      await call<{ url: string }>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/billing/portal`),
      'portal',
    );
    assert.match(portal.url, /^https:\/\/billing\.stripe\.com\/p\/session\//);
    assert.equal(stripe.requests.at(-1)?.form.get('customer'), sub.customer);
  });

  test('failed payment → grace (still enabled) → grace over → disabled, data kept → paid → active', async () => {
    failedInvoice = stripe.event('invoice.payment_failed', stripe.invoiceObject(sub, 'in_failed_1', false));
    assert.equal((await deliver(failedInvoice)).body.outcome, 'applied');
    sub.status = 'past_due';
    await deliver(subscriptionEvent('customer.subscription.updated'));
    const grace = await view();
    assert.equal(grace.subscription?.standing, 'grace');
    assert.equal(grace.subscription.status, 'past_due');
    assert.equal(grace.enabled, true);
    const metadata = ok(
      await call<{ isSubscriptionUnpaid: boolean; hasOpenInvoice: boolean }>(
        server.http,
        owner.token,
        'GET',
        `/api/organizations/${org.id}/billing/metadata`,
      ),
      'metadata',
    );
    assert.equal(metadata.isSubscriptionUnpaid, true);
    assert.deepEqual(
      ok(await call(server.http, owner.token, 'GET', `/api/organizations/${org.id}/billing/vnext/metadata`), 'vnext'),
      metadata,
    );
    assert.equal(metadata.hasOpenInvoice, true);

    // The grace period ends (moved into the past rather than waited for); the job disables the organization.
    await server.db.rows(
      `UPDATE billing_subscription SET grace_ends = now() - interval '1 second' WHERE organization_id = $1`,
      [org.id],
    );
    const disabled = await eventually('the organization disabled', async () => {
      const v = await view();
      return v.enabled ? undefined : v;
    });
    assert.equal(disabled.subscription?.standing, 'disabled');
    const profile = ok(
      await call<{ profile: { organizations: { id: string; enabled: boolean }[] } }>(
        server.http,
        owner.token,
        'GET',
        '/api/sync',
      ),
      'sync',
    );
    assert.equal(profile.profile.organizations.find((o) => o.id === org.id)?.enabled, false);
    // The web vault's suspended-organization dialog: the owner is asked for a payment method.
    const warnings = async (): Promise<{ inactiveSubscription: { resolution: string } | null }> =>
      ok(
        await call<{ inactiveSubscription: { resolution: string } | null }>(
          server.http,
          owner.token,
          'GET',
          `/api/organizations/${org.id}/billing/vnext/warnings`,
        ),
        'warnings',
      );
    assert.equal((await warnings()).inactiveSubscription?.resolution, 'add_payment_method');
    // Its items are kept but not served while it is disabled.
    const syncedItems = async (): Promise<string[]> =>
      ok(await call<{ ciphers: { id: string }[] }>(server.http, owner.token, 'GET', '/api/sync'), 'sync').ciphers.map(
        (c) => c.id,
      );
    assert.deepEqual(await syncedItems(), []);
    assertApiError(await call(server.http, owner.token, 'GET', `/api/ciphers/${orgItem}`), 404);
    assert.equal((await server.db.rows('SELECT 1 FROM cipher WHERE id = $1', [orgItem])).length, 1);
    const members = ok(
      await call<{ data: unknown[] }>(server.http, owner.token, 'GET', `/api/organizations/${org.id}/users`),
      'members kept',
    );
    assert.equal(members.data.length, 5);

    sub.status = 'active';
    assert.equal(
      (await deliver(stripe.event('invoice.paid', stripe.invoiceObject(sub, 'in_failed_1', true)))).status,
      200,
    );
    const back = await view();
    assert.equal(back.enabled, true);
    assert.equal(back.subscription?.standing, 'active');
    assert.equal(
      ok(await call<{ id: string }>(server.http, owner.token, 'GET', `/api/ciphers/${orgItem}`), 'item back').id,
      orgItem,
    );
    assert.equal((await warnings()).inactiveSubscription, null);
    const billing = ok(
      await call<{ invoices: { number: string; paid: boolean; amount: number; url: string }[] }>(
        server.http,
        owner.token,
        'GET',
        `/api/organizations/${org.id}/billing`,
      ),
      'billing',
    );
    assert.deepEqual(
      billing.invoices.map((i) => [i.paid, i.amount]),
      [[true, 28]],
    );
    assert.match(billing.invoices[0]?.url ?? '', /^https:\/\/invoice\.stripe\.com\/i\/in_failed_1/);
  });

  test('webhook negatives: bad signature, stale timestamp, no signature; replay, out-of-order and unknown types harmless', async () => {
    const before = await view();
    const unpaid = { ...sub, status: 'unpaid' };
    const forged = stripe.event('customer.subscription.updated', stripe.subscriptionObject(unpaid));
    const bad = await deliver(forged, stripe.sign(forged, { secret: 'whsec_someone_else' }));
    assertApiError(bad, 400);
    const stale = await deliver(forged, stripe.sign(forged, { timestamp: Math.floor(Date.now() / 1000) - 600 }));
    assertApiError(stale, 400);
    const unsigned = await server.http.request('POST', '/billing/stripe/webhook', {
      rawBody: forged,
      contentType: 'application/json',
    });
    assertApiError(unsigned, 400);
    // The failed payment again (Stripe's retry, or an attacker's replay within the tolerance): handled once.
    const replay = await deliver(failedInvoice);
    assert.equal(replay.status, 200);
    assert.equal(replay.body.outcome, 'duplicate');
    // An older snapshot arriving late (created an hour ago) changes nothing.
    const late = stripe.event(
      'customer.subscription.updated',
      stripe.subscriptionObject(unpaid),
      Math.floor(Date.now() / 1000) - 3600,
    );
    assert.equal((await deliver(late)).status, 200);
    const unknown = await deliver(stripe.event('customer.tax_id.created', { id: 'txi_1', object: 'tax_id' }));
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.outcome, 'ignored');
    const after = await view();
    assert.equal(after.enabled, true);
    assert.equal(after.subscription?.standing, 'active');
    assert.equal(after.seats, before.seats);
  });

  test('seat limit on restore and through the public API; every change an event; owners mailed', async () => {
    const members = ok(
      await call<{ data: { id: string; email: string }[] }>(
        server.http,
        owner.token,
        'GET',
        `/api/organizations/${org.id}/users`,
      ),
      'members',
    );
    const revoked = members.data.find((m) => m.email.startsWith('paid-0'));
    assert.ok(revoked);
    ok(
      await call(server.http, owner.token, 'PUT', `/api/organizations/${org.id}/users/${revoked.id}/revoke`),
      'revoke',
    );
    ok(await inviteMany(emails(3, 'fill')), 'fill the freed seat and the two added');
    const restore = await call(
      server.http,
      owner.token,
      'PUT',
      `/api/organizations/${org.id}/users/${revoked.id}/restore`,
    );
    assertApiError(restore, 400);
    assert.match(restore.text, /Seat limit reached: this organization's plan has 7 seats and 7 are in use/);

    const key = ok(
      await call<{ apiKey: string }>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/api-key`, {
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'api key',
    );
    const grant = await server.http.post<{ access_token: string }>('/identity/connect/token', {
      form: {
        grant_type: 'client_credentials',
        scope: 'api.organization',
        client_id: `organization.${org.id}`,
        client_secret: key.apiKey,
      },
    });
    assert.equal(grant.status, 200, grant.text);
    const viaApi = await server.http.post('/api/public/members', {
      token: grant.body.access_token,
      json: { email: `public-${backend}@billing.example`, type: MemberType.User },
    });
    assertApiError(viaApi, 400);
    assert.match(viaApi.text, /Seat limit reached/);

    const events = new Set(await billingEvents());
    // Checkout started, subscription started, seats changed, cancel scheduled, reinstated, payment failed,
    // grace period, disabled, re-enabled, invoice paid.
    for (const type of [9100, 9101, 9102, 9104, 9105, 9107, 9108, 9109, 9110, 9111]) {
      assert.ok(events.has(type), `event ${type} recorded (got ${[...events].join(', ')})`);
    }
    const log = server.output();
    assert.match(log, /Billed Co: payment failed/);
    assert.match(log, /Billed Co: organization disabled/);
    assert.match(log, /Billed Co: subscription active/);
  });

  test('admin portal: subscriptions with seats used and paid, revenue per month as an inline SVG chart', async () => {
    const res = await server.http.request('GET', '/admin/portal/billing', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      parse: false,
    });
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /Billed Co<\/a>/);
    assert.match(res.text, /Teams \(monthly\)/);
    // Seven seats used (the restore and the public API were refused) of seven paid.
    assert.match(res.text, /<td>7 \/ 7<\/td>/);
    assert.match(res.text, /<svg class="chart"[^>]*aria-label="Revenue per month \(USD\)"/);
    const month = new Date().toISOString().slice(0, 7);
    assert.match(res.text, new RegExp(`<text x="0" y="\\d+">${month}</text><rect [^>]*></rect><text [^>]*>28</text>`));
  });
});

describeOnBackends('billing off (the default)', (backend) => {
  let server: BackedServer;
  let owner: Person;
  let org: Org;

  before(async () => {
    server = await startAllInOne(backend);
    owner = await newPerson(server.http, `owner-off-${backend}@billing.example`);
    org = await createOrg(server.http, owner, 'Unbilled Co');
  });

  after(async () => {
    await server.stop();
  });

  test('organizations have unlimited seats and no billing route answers', async () => {
    const invited = await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/users/invite`, {
      emails: Array.from({ length: 12 }, (_, i) => `member-${i}@unbilled.example`),
      type: MemberType.User,
      collections: [],
      groups: [],
    });
    ok(invited, 'twelve invitations, no limit');
    assert.equal(
      ok(await call<{ seats: number | null }>(server.http, owner.token, 'GET', `/api/organizations/${org.id}`), 'org')
        .seats,
      null,
    );
    for (const [method, path] of [
      ['GET', 'subscription'],
      ['GET', 'billing'],
      ['GET', 'billing/history'],
      ['GET', 'billing/metadata'],
      ['GET', 'billing/vnext/metadata'],
      ['GET', 'billing/vnext/warnings'],
      ['POST', 'billing/checkout'],
      ['POST', 'billing/portal'],
      ['POST', 'seat'],
      ['POST', 'cancel'],
      ['POST', 'reinstate'],
      ['POST', 'upgrade'],
    ] as const) {
      const res = await call(
        server.http,
        owner.token,
        method,
        `/api/organizations/${org.id}/${path}`,
        method === 'POST' ? {} : undefined,
      );
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
    }
    const webhook = await server.http.request('POST', '/billing/stripe/webhook', {
      rawBody: '{"id":"evt_1","type":"invoice.paid"}',
      contentType: 'application/json',
      headers: { 'stripe-signature': 't=1,v1=00' },
    });
    assert.equal(webhook.status, 404);
  });
});
