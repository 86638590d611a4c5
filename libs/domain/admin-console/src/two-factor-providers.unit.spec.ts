import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addConfirmedMember,
  createDomainHarness,
  createOrganization,
  invite,
  registerUser,
  type DomainHarness,
  type TestUser,
} from '@keyhaven/testing';
import { MemberRepository, MembersService, MemberStatus, MemberType, PoliciesService, PolicyType } from './index';

/**
 * The two-step login policy counts every provider, not only the authenticator: email and WebAuthn
 * live in auth's `two_factor_provider` rows (issue 16).
 */
let h: DomainHarness;
before(async () => {
  h = await createDomainHarness();
});
after(async () => {
  await h.close();
});

async function withEmailTwoFactor(user: TestUser, enabled = true): Promise<void> {
  await h.db.execute(
    `INSERT INTO two_factor_provider (user_id, type, enabled, data) VALUES ($1, 1, $2, '{"email":"x@example.com"}')`,
    [user.user.id, enabled],
  );
}

test('email two-step login satisfies the policy: not revoked, may join, listed as two-step', async () => {
  const org = await createOrganization(h);
  const emailOnly = await registerUser(h, 'email-2fa');
  await withEmailTwoFactor(emailOnly);
  const kept = await addConfirmedMember(h, org, { type: MemberType.User }, emailOnly);
  const switchedOff = await registerUser(h, 'email-2fa-off');
  await withEmailTwoFactor(switchedOff, false);
  const revoked = await addConfirmedMember(h, org, { type: MemberType.User }, switchedOff);

  await h.get(PoliciesService).save(org.org.id, PolicyType.TwoFactorAuthentication, { enabled: true, data: null });
  const members = h.get(MemberRepository);
  assert.equal((await members.findInOrg(org.org.id, kept.membership.id))?.status, MemberStatus.Confirmed);
  assert.equal((await members.findInOrg(org.org.id, revoked.membership.id))?.status, MemberStatus.Revoked);
  const details = await members.listDetails(org.org.id);
  assert.equal(details.find((d) => d.id === kept.membership.id)?.twoFactorEnabled, true);
  assert.equal(details.find((d) => d.id === revoked.membership.id)?.twoFactorEnabled, false);

  const joining = await registerUser(h, 'email-2fa-joins');
  await withEmailTwoFactor(joining);
  const invitation = await invite(h, org.ownerMembership, joining.user.email, { type: MemberType.User });
  await h.get(MembersService).accept(org.org.id, invitation.memberId, joining.user.id, invitation.token);
  assert.equal((await members.findInOrg(org.org.id, invitation.memberId))?.status, MemberStatus.Accepted);
});
