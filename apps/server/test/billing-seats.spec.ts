import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpResponse } from '@keyhaven/testing';
import {
  MemberStatus,
  MemberType,
  assertApiError,
  call,
  createOrg,
  createOrgItem,
  join,
  newPerson,
  ok,
  type Org,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { ScimClient, USER_SCHEMA, assertScimError, enableScim } from './scim-fixtures';
import { StripeStandIn, type StandInSubscription } from './stripe-stand-in';

/**
 * Billing (issue 17), the parts billing.spec does not walk through: the seat limit when a directory
 * provisions through SCIM; two invitations or restores at the same moment never passing the limit
 * together; deleting an organization cancelling its Stripe subscription at once (and refused, nothing
 * deleted, while Stripe cannot be reached); the web vault's change-plan call (`organizations/{id}/upgrade`);
 * Stripe failing (503) or refusing (400) an owner's change; what a member of a disabled organization gets.
 * Same loopback Stripe stand-in and real `stripe` client as billing.spec.
 */

const WEBHOOK_SECRET = 'whsec_keyhaven_seats_secret';
const ADMIN_TOKEN = 'billing-seats-admin-token-long-enough-0987654321';
const PRICES =
  'teams-monthly=price_teams_m,teams-yearly=price_teams_y,enterprise-monthly=price_ent_m,enterprise-yearly=price_ent_y';
const LIMIT = /Seat limit reached: this organization's plan has (\d+) seats and (\d+) are in use/;

describeOnBackends('billing: seats under SCIM and concurrency, deletion, upgrade', (backend) => {
  const stripe = new StripeStandIn(WEBHOOK_SECRET);
  let server: BackedServer;
  let owner: Person;

  const deliver = (payload: string) =>
    server.http.request<{ outcome?: string }>('POST', '/billing/stripe/webhook', {
      rawBody: payload,
      contentType: 'application/json; charset=utf-8',
      headers: { 'stripe-signature': stripe.sign(payload) },
    });

  /** What Checkout leaves behind once paid: a Teams monthly subscription, reported by webhook. */
  async function subscribe(org: Org, seats: number): Promise<StandInSubscription> {
    const sub = stripe.createSubscription(org.id, 'price_teams_m', seats, 400);
    const res = await deliver(stripe.event('customer.subscription.created', stripe.subscriptionObject(sub)));
    assert.equal(res.body.outcome, 'applied', res.text);
    return sub;
  }

  const seatsInUse = async (orgId: string): Promise<number> =>
    (
      await server.db.rows<{ n: number }>(
        'SELECT count(*)::int AS n FROM organization_user WHERE organization_id = $1 AND status <> -1',
        [orgId],
      )
    )[0]?.n ?? -1;

  const inviteOne = (org: Org, email: string) =>
    call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/users/invite`, {
      emails: [email],
      type: MemberType.User,
      collections: [],
      groups: [],
    });

  /** Splits answers into successes and refusals naming the limit (anything else fails the test). */
  function tally(answers: HttpResponse[], seats: number): { passed: number; refused: number } {
    let passed = 0;
    let refused = 0;
    for (const res of answers) {
      if (res.status === 200) {
        passed++;
        continue;
      }
      assertApiError(res, 400);
      const named = LIMIT.exec(res.text);
      assert.ok(named, res.text);
      assert.equal(Number(named[1]), seats);
      refused++;
    }
    return { passed, refused };
  }

  before(async () => {
    await stripe.start();
    server = await startAllInOne(backend, {
      BILLING: 'stripe',
      STRIPE_SECRET_KEY: 'sk_test_keyhaven_seats',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_PRICES: PRICES,
      STRIPE_API_URL: stripe.url,
      BILLING_FREE_SEATS: '2',
      ADMIN_TOKEN,
    });
    owner = await newPerson(server.http, `owner-${backend}@seats.example`);
  });

  after(async () => {
    await server.stop();
    await stripe.stop();
  });

  test('SCIM: provisioning past the paid seats is a SCIM 400 naming the limit; re-activation too', async () => {
    const org = await createOrg(server.http, owner, 'Directory Billed');
    await subscribe(org, 3);
    const key = await enableScim(server.http, org, owner.token, owner.account.masterPasswordHash);
    const scim = new ScimClient(server.http, org.id, key, { 'user-agent': 'Okta SCIM Client 1.0.0' });
    const provision = (name: string) =>
      scim.request<{ id: string; detail?: string }>('POST', '/Users', {
        schemas: [USER_SCHEMA],
        externalId: `ext-${name}`,
        userName: `${name}-${backend}@seats.example`,
        active: true,
        emails: [{ type: 'work', value: `${name}-${backend}@seats.example`, primary: true }],
      });
    const first = await provision('ann');
    assert.equal(first.status, 201, first.text);
    assert.equal((await provision('ben')).status, 201);

    const over = await provision('cat');
    assertScimError(over, 400, undefined, 'a fourth seat');
    assert.match(
      over.body.detail ?? '',
      /Seat limit reached: this organization's plan has 3 seats and 3 are in use; adding 1 would need 4/,
    );
    assert.equal(await seatsInUse(org.id), 3, 'nothing provisioned');

    // Deactivating frees the seat, someone else takes it, and the deactivated user cannot come back.
    const off = await scim.patch(`/Users/${first.body.id}`, [{ op: 'replace', path: 'active', value: false }]);
    assert.equal(off.status, 204, off.text);
    assert.equal((await provision('cat')).status, 201);
    const back = await scim.patch(`/Users/${first.body.id}`, [{ op: 'replace', path: 'active', value: true }]);
    assertScimError(back, 400, undefined, 're-activation past the limit');
    assert.match((back.body as { detail: string }).detail, LIMIT);
    assert.equal(await server.db.memberStatus(first.body.id), MemberStatus.Revoked);
    assert.equal(await seatsInUse(org.id), 3);
  });

  test('concurrent invitations and restores never pass the limit together', async () => {
    const org = await createOrg(server.http, owner, 'Crowded Co');
    await subscribe(org, 4);
    const rush = Array.from({ length: 8 }, (_, i) => `rush-${i}-${backend}@seats.example`);
    const invited = tally(await Promise.all(rush.map((email) => inviteOne(org, email))), 4);
    assert.deepEqual(invited, { passed: 3, refused: 5 }, 'the owner and three of eight');
    assert.equal(await seatsInUse(org.id), 4);

    // Three members revoked free three seats; two invitations take two; then three restores and two
    // invitations arrive together for the one seat left.
    const holders = (
      await server.db.rows<{ id: string }>(
        'SELECT id FROM organization_user WHERE organization_id = $1 AND type <> 0 ORDER BY email',
        [org.id],
      )
    ).map((r) => r.id);
    assert.equal(holders.length, 3);
    for (const id of holders) {
      ok(await call(server.http, owner.token, 'PUT', `/api/organizations/${org.id}/users/${id}/revoke`), 'revoke');
    }
    ok(await inviteOne(org, `late-0-${backend}@seats.example`), 'invite into a freed seat');
    ok(await inviteOne(org, `late-1-${backend}@seats.example`), 'invite into a freed seat');
    const together = await Promise.all([
      ...holders.map((id) => call(server.http, owner.token, 'PUT', `/api/organizations/${org.id}/users/${id}/restore`)),
      inviteOne(org, `late-2-${backend}@seats.example`),
      inviteOne(org, `late-3-${backend}@seats.example`),
    ]);
    assert.deepEqual(tally(together, 4), { passed: 1, refused: 4 }, 'one seat, one winner');
    assert.equal(await seatsInUse(org.id), 4);
  });

  test('deleting an organization cancels its Stripe subscription at once; refused, nothing deleted, while Stripe is down', async () => {
    const org = await createOrg(server.http, owner, 'Closing Co');
    const sub = await subscribe(org, 2);
    const remove = () =>
      call(server.http, owner.token, 'DELETE', `/api/organizations/${org.id}`, {
        masterPasswordHash: owner.account.masterPasswordHash,
      });

    stripe.outage = true;
    const refused = await remove();
    stripe.outage = false;
    assertApiError(refused, 503);
    assert.match(refused.text, /could not be cancelled, so nothing was deleted/);
    const still = ok(
      await call<{ subscription: { status: string } | null }>(
        server.http,
        owner.token,
        'GET',
        `/api/organizations/${org.id}/subscription`,
      ),
      'the organization is still there',
    );
    assert.equal(still.subscription?.status, 'active');
    assert.equal(sub.status, 'active');

    ok(await remove(), 'delete');
    const cancelled = stripe.requests.filter((r) => r.method === 'DELETE' && r.path === `/v1/subscriptions/${sub.id}`);
    assert.ok(cancelled.length >= 1, 'Stripe was asked to cancel the subscription');
    assert.equal(cancelled.at(-1)?.authorization, 'Bearer sk_test_keyhaven_seats');
    assert.equal(sub.status, 'canceled');
    assert.equal((await server.db.rows('SELECT 1 FROM organization WHERE id = $1', [org.id])).length, 0);
    // The event Stripe sends about the cancellation finds no organization: acknowledged, nothing else.
    const late = await deliver(stripe.event('customer.subscription.deleted', stripe.subscriptionObject(sub)));
    assert.equal(late.status, 200, late.text);

    // The operator's deletion cancels too; a subscription Stripe already ended does not stop it.
    const other = await createOrg(server.http, owner, 'Operator Closes');
    const otherSub = await subscribe(other, 2);
    const byOperator = await server.http.request('POST', `/admin/organizations/${other.id}/delete`, {
      token: ADMIN_TOKEN,
    });
    assert.equal(byOperator.status, 200, byOperator.text);
    assert.equal(otherSub.status, 'canceled');
    const ended = await createOrg(server.http, owner, 'Already Ended');
    const endedSub = await subscribe(ended, 2);
    endedSub.status = 'canceled';
    ok(
      await call(server.http, owner.token, 'DELETE', `/api/organizations/${ended.id}`, {
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'delete after Stripe ended the subscription on its own',
    );
  });

  test('upgrade (the web vault change-plan dialog): plan and seats of the subscription change; without one, Checkout', async () => {
    const org = await createOrg(server.http, owner, 'Growing Co');
    const sub = await subscribe(org, 3);
    const upgrade = (orgId: string, planType: number, additionalSeats: number) =>
      call<{ success: boolean; paymentIntentClientSecret: string | null; object: string }>(
        server.http,
        owner.token,
        'POST',
        `/api/organizations/${orgId}/upgrade`,
        {
          businessName: null,
          planType,
          additionalSeats,
          additionalStorageGb: 0,
          premiumAccessAddon: false,
          useSecretsManager: false,
          billingAddressCountry: 'US',
          billingAddressPostalCode: '94105',
        },
      );
    const answer = ok(await upgrade(org.id, 20, 5), 'upgrade to Enterprise annually');
    assert.deepEqual(answer, {
      success: true,
      paymentIntentClientSecret: null,
      userProfile: null,
      object: 'payment',
    });
    const asked = stripe.requests.filter((r) => r.path === `/v1/subscriptions/${sub.id}`).at(-1);
    assert.equal(asked?.form.get('items[0][id]'), sub.itemId);
    assert.equal(asked.form.get('items[0][price]'), 'price_ent_y');
    assert.equal(asked.form.get('items[0][quantity]'), '5');
    assert.equal(asked.form.get('proration_behavior'), 'create_prorations');
    const view = ok(
      await call<{ planType: number; seats: number }>(
        server.http,
        owner.token,
        'GET',
        `/api/organizations/${org.id}/subscription`,
      ),
      'subscription',
    );
    assert.deepEqual([view.planType, view.seats], [20, 5]);
    const planChanged = await server.db.rows(
      `SELECT 1 FROM (SELECT (payload ->> 'type')::int AS type, payload ->> 'organizationId' AS org FROM event_outbox
         UNION ALL SELECT type, organization_id::text FROM event) e WHERE org = $1 AND type = 9103`,
      [org.id],
    );
    assert.ok(planChanged.length >= 1, 'event 9103 (plan changed)');

    // The seat route's newer form answers the member's organization as the web vault reads it.
    const seats = ok(
      await call<{ object: string; seats: number }>(
        server.http,
        owner.token,
        'POST',
        `/api/organizations/${org.id}/subscription`,
        { seatAdjustment: 1 },
      ),
      'seat adjustment',
    );
    assert.deepEqual([seats.object, seats.seats], ['profileOrganization', 6]);

    assertApiError(await upgrade(org.id, 5, 5), 400, 'a plan this server does not sell');
    const free = await createOrg(server.http, owner, 'Free Co');
    const notYet = await upgrade(free.id, 17, 3);
    assertApiError(notYet, 400, 'no subscription yet');
    assert.match(notYet.text, /Subscribe through Stripe Checkout first/);
  });
  test("Stripe failing or refusing an owner's change answers 503 or 400 with the reason, never 500, and changes nothing", async () => {
    const org = await createOrg(server.http, owner, 'Unlucky Co');
    const sub = await subscribe(org, 3);
    const seatsNow = async (): Promise<number> =>
      ok(
        await call<{ seats: number }>(server.http, owner.token, 'GET', `/api/organizations/${org.id}/subscription`),
        'subscription',
      ).seats;
    stripe.outage = true;
    const down = await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/seat`, {
      seatAdjustment: 1,
    });
    const noCheckout = await call(
      server.http,
      owner.token,
      'POST',
      `/api/organizations/${(await createOrg(server.http, owner, 'Unlucky Free')).id}/billing/checkout`,
      { plan: 'teams', seats: 2 },
    );
    const downFewer = await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/seat`, {
      seatAdjustment: -1,
    });
    stripe.outage = false;
    // The fewer seats were enforced before Stripe was asked; its failure put the limit back.
    assertApiError(downFewer, 503);
    const limit = await server.db.rows<{ seats: number }>('SELECT seats FROM organization WHERE id = $1', [org.id]);
    assert.equal(limit[0]?.seats, 3);
    assertApiError(down, 503);
    assert.match(down.text, /Stripe cannot be reached right now; nothing was changed/);
    assertApiError(noCheckout, 503);
    assert.equal(await seatsNow(), 3);

    // Stripe no longer knows the subscription (removed in its dashboard): its refusal, passed on.
    stripe.subscriptions.delete(sub.id);
    const refused = await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/cancel`, {});
    assertApiError(refused, 400);
    assert.match(refused.text, /Stripe refused the request: No such subscription/);
    assert.equal(await seatsNow(), 3);
  });
  test('a member of a disabled organization: no items, the web vault told to ask an owner; the owner to pay', async () => {
    const org = await createOrg(server.http, owner, 'Lapsed Co');
    const sub = await subscribe(org, 3);
    const member = await join(
      server.http,
      org,
      owner.token,
      await newPerson(server.http, `member-${backend}@lapsed.example`),
      { type: MemberType.User, collections: [{ id: org.defaultCollection }] },
    );
    const item = await createOrgItem(server.http, org, owner.token, 'lapsed-item', [org.defaultCollection]);
    const read = (token: string) => call(server.http, token, 'GET', `/api/ciphers/${item}`);
    const warning = async (token: string): Promise<string | null> =>
      ok(
        await call<{ inactiveSubscription: { resolution: string } | null }>(
          server.http,
          token,
          'GET',
          `/api/organizations/${org.id}/billing/vnext/warnings`,
        ),
        'warnings',
      ).inactiveSubscription?.resolution ?? null;
    assert.equal((await read(member.token)).status, 200);
    assert.equal(await warning(member.token), null);

    // Stripe gives up on the invoices: the subscription is unpaid and the organization disabled at once.
    sub.status = 'unpaid';
    await deliver(stripe.event('customer.subscription.updated', stripe.subscriptionObject(sub)));
    assertApiError(await read(member.token), 404);
    assert.equal(await warning(member.token), 'contact_owner');
    assert.equal(await warning(owner.token), 'add_payment_method');
    const metadata = ok(
      await call<{ isSubscriptionUnpaid: boolean }>(
        server.http,
        member.token,
        'GET',
        `/api/organizations/${org.id}/billing/metadata`,
      ),
      'a member reads the billing metadata',
    );
    assert.equal(metadata.isSubscriptionUnpaid, true);
    // Billing itself stays the owners': a member is refused the subscription.
    assertApiError(await call(server.http, member.token, 'GET', `/api/organizations/${org.id}/subscription`), 404);

    sub.status = 'active';
    await deliver(stripe.event('customer.subscription.updated', stripe.subscriptionObject(sub)));
    assert.equal((await read(member.token)).status, 200);
    assert.equal(await warning(member.token), null);
  });
  test('a seat reduction racing an invitation: one of them wins, the members never outnumber the seats', async () => {
    for (let round = 0; round < 3; round++) {
      const org = await createOrg(server.http, owner, `Shrinking Co ${round}`);
      const sub = await subscribe(org, 5);
      for (let i = 0; i < 2; i++) ok(await inviteOne(org, `keep-${round}-${i}-${backend}@seats.example`), 'invite');
      const [reduce, invite] = await Promise.all([
        call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/seat`, { seatAdjustment: -2 }),
        inviteOne(org, `racer-${round}-${backend}@seats.example`),
      ]);
      const paid = ok(
        await call<{ seats: number }>(server.http, owner.token, 'GET', `/api/organizations/${org.id}/subscription`),
        'subscription',
      ).seats;
      const used = await seatsInUse(org.id);
      assert.equal([reduce, invite].filter((r) => r.status === 200).length, 1, `${reduce.text} / ${invite.text}`);
      assert.ok(used <= paid, `${used} members on ${paid} seats`);
      assert.equal(sub.quantity, paid, 'Stripe bills the seats the organization has');
    }
  });
});
