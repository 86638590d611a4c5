import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemberStatus, MemberType, normalizePermissions } from '../enums';
import type { Membership } from '../membership';
import { mayRecover } from './recovery-rules';

const member = (
  id: string,
  type: number,
  flags: Record<string, boolean> = {},
  status: number = MemberStatus.Confirmed,
): Membership => ({
  id,
  organizationId: 'org',
  userId: `user-${id}`,
  email: null,
  key: null,
  resetPasswordKey: '4.key',
  status,
  type,
  permissions: normalizePermissions(flags),
  externalId: null,
  revokedReason: null,
  creationDate: new Date(0),
  revisionDate: new Date(0),
});

const actors = {
  owner: member('a-owner', MemberType.Owner),
  admin: member('a-admin', MemberType.Admin),
  customWith: member('a-cw', MemberType.Custom, { manageResetPassword: true }),
  customWithout: member('a-cwo', MemberType.Custom, { manageUsers: true }),
  user: member('a-user', MemberType.User),
  invitedOwner: member('a-inv', MemberType.Owner, {}, MemberStatus.Accepted),
};
const targets = {
  owner: member('t-owner', MemberType.Owner),
  admin: member('t-admin', MemberType.Admin),
  custom: member('t-custom', MemberType.Custom, { manageResetPassword: true }),
  user: member('t-user', MemberType.User),
};

test('who may recover whom: every actor and target role, and nobody themselves', () => {
  const expected: Record<keyof typeof actors, (keyof typeof targets)[]> = {
    owner: ['owner', 'admin', 'custom', 'user'],
    admin: ['admin', 'custom', 'user'],
    customWith: ['custom', 'user'],
    customWithout: [],
    user: [],
    invitedOwner: [],
  };
  for (const [a, actor] of Object.entries(actors) as [keyof typeof actors, Membership][]) {
    const allowed = (Object.keys(targets) as (keyof typeof targets)[]).filter((t) => mayRecover(actor, targets[t]));
    assert.deepEqual(allowed, expected[a], a);
    assert.equal(mayRecover(actor, actor), false, `${a} on themselves`);
    assert.equal(mayRecover(actor, { ...targets.user, userId: actor.userId }), false, `${a} on their own account`);
  }
});
