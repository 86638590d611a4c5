import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, serverConfigSchema } from '@keyhaven/config';

/** Billing's settings as the server validates them at boot: a half-set-up billing never starts. */

const PRICES = 'teams-monthly=price_tm,teams-yearly=price_ty,enterprise-monthly=price_em,enterprise-yearly=price_ey';
const COMPLETE = {
  BILLING: 'stripe',
  STRIPE_SECRET_KEY: 'sk_test_abc123',
  STRIPE_WEBHOOK_SECRET: 'whsec_abc123',
  STRIPE_PRICES: PRICES,
};

/** The one line the process prints and exits with. */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(serverConfigSchema, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('the configuration was accepted');
}

test('BILLING=stripe needs its key, its webhook secret and a price for every plan, each named', () => {
  assert.match(
    refusal({ BILLING: 'stripe' }),
    /^Invalid configuration: STRIPE_SECRET_KEY: is required with BILLING=stripe/,
  );
  assert.match(
    refusal({ ...COMPLETE, STRIPE_SECRET_KEY: 'pk_test_publishable' }),
    /^Invalid configuration: STRIPE_SECRET_KEY: /,
  );
  assert.match(
    refusal({ ...COMPLETE, STRIPE_WEBHOOK_SECRET: '' }),
    /^Invalid configuration: STRIPE_WEBHOOK_SECRET: is required with BILLING=stripe/,
  );
  assert.match(
    refusal({ ...COMPLETE, STRIPE_PRICES: 'teams-monthly=price_tm,teams-yearly=price_ty' }),
    /^Invalid configuration: STRIPE_PRICES: needs a price for enterprise-monthly, enterprise-yearly/,
  );
  assert.match(refusal({ ...COMPLETE, STRIPE_PRICES: 'gold=price_x' }), /^Invalid configuration: STRIPE_PRICES: /);
  assert.match(refusal({ ...COMPLETE, BILLING: 'paypal' }), /^Invalid configuration: BILLING: must be off or stripe/);
  assert.match(refusal({ ...COMPLETE, BILLING_FREE_SEATS: '0' }), /^Invalid configuration: BILLING_FREE_SEATS: /);
});

test('a complete Stripe setup loads, the secret from a *_FILE too; BILLING=off (the default) needs none of it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'billing-config-'));
  try {
    const file = join(dir, 'stripe-key');
    writeFileSync(file, 'rk_live_restricted\n');
    const { STRIPE_SECRET_KEY: _inline, ...rest } = COMPLETE;
    const config = loadConfig(serverConfigSchema, { ...rest, STRIPE_SECRET_KEY_FILE: file });
    assert.equal(config.BILLING, 'stripe');
    assert.equal(config.STRIPE_SECRET_KEY, 'rk_live_restricted');
    assert.equal(config.STRIPE_PRICES['enterprise-yearly'], 'price_ey');
    assert.equal(config.BILLING_FREE_SEATS, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const off = loadConfig(serverConfigSchema, {});
  assert.equal(off.BILLING, 'off');
  assert.equal(off.STRIPE_SECRET_KEY, undefined);
});
