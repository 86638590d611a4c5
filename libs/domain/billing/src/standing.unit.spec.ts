import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextStanding, paysForSeats } from './standing';

const snapshot = (status: string, deleted = false) => ({ kind: 'snapshot' as const, status, deleted });

test('a failed payment opens the grace period only from good standing; its end disables; a payment restores', () => {
  assert.equal(nextStanding('active', { kind: 'payment-failed' }), 'grace');
  assert.equal(nextStanding('grace', { kind: 'payment-failed' }), 'grace');
  assert.equal(nextStanding('disabled', { kind: 'payment-failed' }), 'disabled');
  assert.equal(nextStanding('grace', { kind: 'grace-over' }), 'disabled');
  assert.equal(nextStanding('active', { kind: 'grace-over' }), 'active');
  assert.equal(nextStanding('grace', { kind: 'paid' }), 'active');
  assert.equal(nextStanding('disabled', { kind: 'paid' }), 'active');
  assert.equal(nextStanding('canceled', { kind: 'paid' }), 'canceled');
});

test("Stripe's subscription status: past_due is grace, unpaid disabled, a cancellation while unpaid stays disabled", () => {
  assert.equal(nextStanding(null, snapshot('active')), 'active');
  assert.equal(nextStanding(null, snapshot('incomplete')), 'incomplete');
  assert.equal(nextStanding('active', snapshot('past_due')), 'grace');
  assert.equal(nextStanding('disabled', snapshot('past_due')), 'disabled');
  assert.equal(nextStanding('grace', snapshot('unpaid')), 'disabled');
  assert.equal(nextStanding('disabled', snapshot('active')), 'active');
  assert.equal(nextStanding('active', snapshot('active', true)), 'canceled');
  assert.equal(nextStanding('grace', snapshot('canceled')), 'disabled');
  assert.equal(nextStanding('disabled', snapshot('active', true)), 'disabled');
});

test('the subscription decides the seats while it is paid for or owed; otherwise the Free plan does', () => {
  assert.deepEqual((['active', 'grace', 'disabled', 'canceled', 'incomplete', null] as const).map(paysForSeats), [
    true,
    true,
    true,
    false,
    false,
    false,
  ]);
});
