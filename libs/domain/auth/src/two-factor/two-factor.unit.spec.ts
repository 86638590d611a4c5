import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyhavenError } from '@keyhaven/contracts';
import { Database } from '@keyhaven/db';
import { createDomainHarness, registerUser, reloadUser, type DomainHarness } from '@keyhaven/testing';
import { AccountsService } from '../accounts/accounts.service';
import { OneTimeCodes } from './one-time-codes';
import { TwoFactorProvider } from './two-factor.service';
import { UserVerificationTokens } from './user-verification';

/** The user-verification token and the mailed codes: lifetimes, bindings and single use. */
let h: DomainHarness;
before(async () => {
  h = await createDomainHarness();
});
after(async () => {
  await h.close();
});

const refusedAsVerificationFailed = (error: unknown): boolean => {
  assert.ok(error instanceof KeyhavenError, String(error));
  assert.equal(error.code, 'bad_request');
  assert.deepEqual(error.validationErrors, { UserVerificationToken: ['User verification failed.'] });
  return true;
};

describe('user-verification token', () => {
  test('fits its user and provider for 30 minutes, then expires', async () => {
    const { user } = await registerUser(h);
    const tokens = h.get(UserVerificationTokens);
    const token = await tokens.issue(user, TwoFactorProvider.Email);
    await tokens.require(user, TwoFactorProvider.Email, token);
    await assert.rejects(tokens.require(user, TwoFactorProvider.WebAuthn, token), refusedAsVerificationFailed);
    // Only this process's clock moves (the embedded database reads it too), and only for this check.
    const realNow = Date.now.bind(Date);
    let offset = 29 * 60 * 1000;
    const clock = mock.method(Date, 'now', () => realNow() + offset);
    try {
      await tokens.require(user, TwoFactorProvider.Email, token);
      offset = 31 * 60 * 1000;
      await assert.rejects(tokens.require(user, TwoFactorProvider.Email, token), refusedAsVerificationFailed);
    } finally {
      clock.mock.restore();
    }
  });

  test("another user's token, a tampered one and one from before a password change are refused", async () => {
    const alice = await registerUser(h, 'alice');
    const bob = await registerUser(h, 'bob');
    const tokens = h.get(UserVerificationTokens);
    const token = await tokens.issue(alice.user, TwoFactorProvider.Email);
    await assert.rejects(tokens.require(bob.user, TwoFactorProvider.Email, token), refusedAsVerificationFailed);
    const [payload, mac] = token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ u: bob.user.id, p: 1, s: 'x', e: Date.now() + 1e6 })).toString('base64url')}.${mac}`;
    await assert.rejects(tokens.require(bob.user, TwoFactorProvider.Email, forged), refusedAsVerificationFailed);
    assert.ok(payload);
    await h.get(AccountsService).rotateSecurityStamp(alice.user);
    const rotated = await reloadUser(h, alice.user.id);
    await assert.rejects(tokens.require(rotated, TwoFactorProvider.Email, token), refusedAsVerificationFailed);
  });

  test('the authenticator token is bound to the key it was issued with', async () => {
    const { user } = await registerUser(h);
    const tokens = h.get(UserVerificationTokens);
    const token = await tokens.issue(user, TwoFactorProvider.Authenticator, 'JBSWY3DPEHPK3PXP');
    await tokens.require(user, TwoFactorProvider.Authenticator, token, 'jbswy3dpehpk3pxp');
    await assert.rejects(
      tokens.require(user, TwoFactorProvider.Authenticator, token, 'KRSXG5CTMVRXEZLU'),
      refusedAsVerificationFailed,
    );
  });
});

describe('mailed codes', () => {
  test('used once; another purpose, an expired code or a new security stamp do not pass', async () => {
    const { user } = await registerUser(h);
    const codes = h.get(OneTimeCodes);
    const code = await codes.issue(user, 'email-login', user.email);
    assert.match(code, /^\d{6}$/);
    assert.equal(await codes.consume(user, 'new-device', code), 'wrong');
    assert.equal(await codes.consume(user, 'email-login', code), 'ok');
    assert.equal(await codes.consume(user, 'email-login', code), 'wrong', 'replay');

    const expiring = await codes.issue(user, 'email-login', user.email);
    // Five minutes later, as the database sees it.
    await h
      .get(Database)
      .execute("UPDATE two_factor_code SET expires_at = now() - interval '1 second' WHERE user_id = $1", [user.id]);
    assert.equal(await codes.consume(user, 'email-login', expiring), 'wrong', 'expired after 5 minutes');

    const stamped = await codes.issue(user, 'email-login', user.email);
    await h.get(AccountsService).rotateSecurityStamp(user);
    assert.equal(await codes.consume(await reloadUser(h, user.id), 'email-login', stamped), 'wrong');
  });

  test('five wrong guesses drop the code', async () => {
    const { user } = await registerUser(h);
    const codes = h.get(OneTimeCodes);
    const code = await codes.issue(user, 'email-setup', 'setup@example.com');
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++) assert.equal(await codes.consume(user, 'email-setup', wrong), 'wrong');
    assert.equal(await codes.consume(user, 'email-setup', code, 'setup@example.com'), 'wrong', 'gone');
    const next = await codes.issue(user, 'email-setup', 'setup@example.com');
    assert.equal(await codes.consume(user, 'email-setup', next, 'other@example.com'), 'wrong', 'another address');
  });
});
