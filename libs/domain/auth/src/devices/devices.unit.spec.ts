import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PushType } from '@keyhaven/contracts';
import {
  createDomainHarness,
  passwordGrantForm,
  registerUser,
  rejectsWithCode,
  type DomainHarness,
} from '@keyhaven/testing';
import { DevicesService, LoginService } from '../index';

let h: DomainHarness;
before(async () => {
  h = await createDomainHarness();
});
after(async () => {
  await h.close();
});

async function loginFrom(email: string, password: string, deviceIdentifier: string): Promise<void> {
  await h.get(LoginService).token(passwordGrantForm(email, password, { deviceIdentifier }), '192.0.2.20');
}

test('deauthorising one device tells only that device to log out', async () => {
  const alice = await registerUser(h, 'alice');
  const laptop = randomUUID();
  const phone = randomUUID();
  await loginFrom(alice.user.email, alice.password, laptop);
  await loginFrom(alice.user.email, alice.password, phone);
  const devices = h.get(DevicesService);
  const row = await devices.byIdentifier(alice.user.id, laptop);
  const from = h.pushes.length;

  await devices.deactivate(alice.user.id, row.id);
  await h.settle();

  const pushed = h.pushes.slice(from).filter((p) => p.userId === alice.user.id);
  assert.deepEqual(
    pushed.map((p) => [p.type, p.deviceIdentifier]),
    [[PushType.LogOut, laptop]],
  );
  assert.deepEqual(
    (await devices.list(alice.user.id)).map((d) => d.identifier),
    [phone],
  );
});

test("another user's device is not found, and nothing is pushed", async () => {
  const alice = await registerUser(h, 'alice');
  const mallory = await registerUser(h, 'mallory');
  const laptop = randomUUID();
  await loginFrom(alice.user.email, alice.password, laptop);
  const row = await h.get(DevicesService).byIdentifier(alice.user.id, laptop);
  const from = h.pushes.length;
  await rejectsWithCode(h.get(DevicesService).deactivate(mallory.user.id, row.id), 'not_found');
  await h.settle();
  assert.deepEqual(h.pushes.slice(from), []);
});
