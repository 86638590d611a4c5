import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PushType } from '@keyhaven/contracts';
import { ProfileService } from '@keyhaven/domain-auth';
import {
  addConfirmedMember,
  createDomainHarness,
  createOrganization,
  registerUser,
  type DomainHarness,
} from '@keyhaven/testing';
import { MemberType, OrganizationsService, updateOrganizationSchema } from './index';

let h: DomainHarness;
before(async () => {
  h = await createDomainHarness();
});
after(async () => {
  await h.close();
});

/** The push types each user's clients were sent since `from`, after the bus delivered them. */
async function pushedSince(from: number, userIds: string[]): Promise<Map<string, number[]>> {
  await h.settle();
  const sent = h.pushes.slice(from);
  return new Map(userIds.map((id) => [id, sent.filter((p) => p.userId === id).map((p) => p.type)]));
}

test("renaming an organization tells every member's clients to re-read their organizations", async () => {
  const org = await createOrganization(h);
  const { member } = await addConfirmedMember(h, org, { type: MemberType.User });
  const outsider = await registerUser(h, 'outsider');
  const from = h.pushes.length;
  await h.get(OrganizationsService).update(org.org.id, updateOrganizationSchema.parse({ name: 'Renamed' }));
  const pushed = await pushedSince(from, [org.owner.user.id, member.user.id, outsider.user.id]);
  assert.deepEqual(pushed.get(org.owner.user.id), [PushType.SyncOrganizations]);
  assert.deepEqual(pushed.get(member.user.id), [PushType.SyncOrganizations]);
  assert.deepEqual(pushed.get(outsider.user.id), []);
});

test("leaving an organization syncs the leaver's other clients and moves their revision date", async () => {
  const org = await createOrganization(h);
  const { member, membership } = await addConfirmedMember(h, org, { type: MemberType.User });
  const before = await h.get(ProfileService).revisionDate(member.user.id);
  const from = h.pushes.length;
  await new Promise((resolve) => setTimeout(resolve, 5));
  await h.get(OrganizationsService).leave(membership);
  const pushed = await pushedSince(from, [member.user.id, org.owner.user.id]);
  assert.deepEqual(pushed.get(member.user.id), [PushType.SyncOrganizations]);
  assert.deepEqual(pushed.get(org.owner.user.id), []);
  assert.ok((await h.get(ProfileService).revisionDate(member.user.id)) > before);
});

test("changing equivalent domains tells the user's other clients to reload their settings", async () => {
  const alice = await registerUser(h, 'alice');
  const from = h.pushes.length;
  await h.get(ProfileService).updateDomains(alice.user.id, { equivalentDomains: [['a.example', 'b.example']] });
  assert.deepEqual((await pushedSince(from, [alice.user.id])).get(alice.user.id), [PushType.SyncSettings]);
});
