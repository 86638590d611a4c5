import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PushType } from '@keyhaven/contracts';
import { RefreshTokens } from '@keyhaven/domain-auth';
import {
  addConfirmedMember,
  createDomainHarness,
  createOrganization,
  registerUser,
  type DomainHarness,
} from '@keyhaven/testing';
import { MemberStatus, MemberType } from '../enums';
import { OffboardingService, OperatorActionsService, OperatorDirectory, OperatorEventType } from './index';

let h: DomainHarness;
before(async () => {
  h = await createDomainHarness();
});
after(async () => {
  await h.close();
});

async function outboxTypes(userId: string): Promise<number[]> {
  const rows = await h.db.rows<{ type: string }>(
    `SELECT payload ->> 'type' AS type FROM event_outbox WHERE payload ->> 'userId' = $1 ORDER BY seq`,
    [userId],
  );
  return rows.map((r) => Number(r.type));
}

test('offboarding disables, revokes from every organization and ends every session in one step; a repeat does nothing', async () => {
  const first = await createOrganization(h);
  const second = await createOrganization(h);
  const { member } = await addConfirmedMember(h, first, { type: MemberType.User });
  await addConfirmedMember(h, second, { type: MemberType.Admin }, member);
  await h
    .get(RefreshTokens)
    .issue({ userId: member.user.id, deviceId: null, clientId: 'cli', securityStamp: member.user.securityStamp });
  const from = h.pushes.length;

  const result = await h.get(OffboardingService).offboard(member.user.id);
  assert.equal(result.disabled, true);
  assert.deepEqual(result.revokedFrom.map((r) => r.organizationId).sort(), [first.org.id, second.org.id].sort());
  assert.equal(result.sessionsEnded, 1);
  assert.equal(result.alreadyOffboarded, false);

  const account = await h.db.rows<{ enabled: boolean; security_stamp: string }>(
    'SELECT enabled, security_stamp FROM app_user WHERE id = $1',
    [member.user.id],
  );
  const row = account[0];
  assert.ok(row);
  assert.equal(row.enabled, false);
  assert.notEqual(row.security_stamp, member.user.securityStamp);
  const statuses = await h.db.rows<{ status: number }>('SELECT status FROM organization_user WHERE user_id = $1', [
    member.user.id,
  ]);
  assert.deepEqual(
    statuses.map((s) => s.status),
    [MemberStatus.Revoked, MemberStatus.Revoked],
  );
  assert.equal((await h.db.rows('SELECT 1 FROM refresh_token WHERE user_id = $1', [member.user.id])).length, 0);
  assert.deepEqual((await outboxTypes(member.user.id)).sort(), [1511, 1511, OperatorEventType.User_Offboarded]);
  await h.settle();
  assert.ok(h.pushes.slice(from).some((p) => p.userId === member.user.id && p.type === PushType.LogOut));

  const again = await h.get(OffboardingService).offboard(member.user.id);
  assert.equal(again.alreadyOffboarded, true);
  assert.deepEqual(again.revokedFrom, []);
  assert.equal(again.disabled, false);
  // The owners are untouched.
  const owners = await h.db.rows<{ status: number }>('SELECT status FROM organization_user WHERE user_id = $1', [
    first.owner.user.id,
  ]);
  assert.deepEqual(
    owners.map((o) => o.status),
    [MemberStatus.Confirmed],
  );
});

test('the directory lists accounts with their organizations in one statement, and searches literally', async () => {
  const org = await createOrganization(h);
  const { member } = await addConfirmedMember(h, org, { type: MemberType.User });
  const found = await h.get(OperatorDirectory).userById(member.user.id);
  assert.ok(found);
  assert.equal(found.organizations.length, 1);
  assert.equal(found.organizations[0]?.id, org.org.id);
  assert.equal(found.enabled, true);
  // `%` is a character to find, not a pattern: nothing matches it.
  assert.deepEqual(await h.get(OperatorDirectory).users('%'), []);
});

test('enable and disable change only the flag and record the action', async () => {
  const { user } = await registerUser(h, 'toggle');
  const actions = h.get(OperatorActionsService);
  assert.equal((await actions.setEnabled(user.id, false)).enabled, false);
  assert.equal((await actions.setEnabled(user.id, true)).enabled, true);
  assert.deepEqual(await outboxTypes(user.id), [OperatorEventType.User_Disabled, OperatorEventType.User_Enabled]);
});
