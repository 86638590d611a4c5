import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDomainHarness, passwordGrantForm, registerUser, type DomainHarness } from '@keyhaven/testing';
import { ACTIVITY_RESOLUTION_MINUTES, LoginService } from '@keyhaven/domain-auth';
import { SyncService } from '../index';

/**
 * `app_user.last_activity_date` (what dormant-account reports read): a token issued by a password
 * or API-key grant, a refresh, and a sync each mark the user active — at most once per resolution.
 */
let h: DomainHarness;
before(async () => {
  h = await createDomainHarness();
});
after(async () => {
  await h.close();
});

const IP = '192.0.2.44';
const MINUTE = 60_000;

async function lastActivity(userId: string): Promise<Date | null> {
  const [row] = await h.db.rows<{ last_activity_date: Date | null }>(
    'SELECT last_activity_date FROM app_user WHERE id = $1',
    [userId],
  );
  assert.ok(row, 'user row');
  return row.last_activity_date ? new Date(row.last_activity_date) : null;
}

async function setLastActivity(userId: string, at: Date): Promise<void> {
  await h.db.execute('UPDATE app_user SET last_activity_date = $2 WHERE id = $1', [userId, at]);
}

/** A date within a few seconds of now (the stamp is written with the server's clock). */
function assertRecent(value: Date | null, what: string): void {
  assert.ok(value, `${what}: no activity recorded`);
  assert.ok(Math.abs(Date.now() - value.getTime()) < 10_000, `${what}: ${value.toISOString()} is not now`);
}

describe('activity tracking', () => {
  test('a new account has no activity; a password login records it', async () => {
    const { user, password } = await registerUser(h);
    assert.equal(await lastActivity(user.id), null);
    await h.get(LoginService).token(passwordGrantForm(user.email, password), IP);
    assertRecent(await lastActivity(user.id), 'password grant');
  });

  test('a failed login records nothing', async () => {
    const { user } = await registerUser(h);
    await assert.rejects(h.get(LoginService).token(passwordGrantForm(user.email, 'wrong'), IP));
    assert.equal(await lastActivity(user.id), null);
  });

  test('a refresh, an API-key grant and a sync each move a stale stamp to now', async () => {
    const { user, password } = await registerUser(h);
    const login = await h.get(LoginService).token(passwordGrantForm(user.email, password), IP);
    const hourAgo = new Date(Date.now() - 60 * MINUTE);

    await setLastActivity(user.id, hourAgo);
    await h
      .get(LoginService)
      .token({ grant_type: 'refresh_token', refresh_token: String(login['refresh_token']), client_id: 'cli' }, IP);
    assertRecent(await lastActivity(user.id), 'refresh');

    await setLastActivity(user.id, hourAgo);
    await h.get(LoginService).token(
      {
        grant_type: 'client_credentials',
        client_id: `user.${user.id}`,
        client_secret: user.apiKey,
        scope: 'api',
        deviceType: '25',
        deviceIdentifier: 'activity-device',
        deviceName: 'linux',
      },
      IP,
    );
    assertRecent(await lastActivity(user.id), 'API-key grant');

    await setLastActivity(user.id, hourAgo);
    await h.get(SyncService).sync(user.id, true);
    assertRecent(await lastActivity(user.id), 'sync');
  });

  test('within the resolution the stamp is left alone (no write per request)', async () => {
    const { user, password } = await registerUser(h);
    const recent = new Date(Date.now() - (ACTIVITY_RESOLUTION_MINUTES * MINUTE) / 2);
    await setLastActivity(user.id, recent);
    await h.get(LoginService).token(passwordGrantForm(user.email, password), IP);
    await h.get(SyncService).sync(user.id, false);
    assert.equal((await lastActivity(user.id))?.toISOString(), recent.toISOString());

    const stale = new Date(Date.now() - (ACTIVITY_RESOLUTION_MINUTES * MINUTE + 30_000));
    await setLastActivity(user.id, stale);
    await h.get(SyncService).sync(user.id, false);
    assertRecent(await lastActivity(user.id), 'sync past the resolution');
  });
});
