import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BwCli, passwordLogin, registerAccount } from '@keyhaven/testing';
import { createOrganizationKeys, encryptType2, type Account } from '@keyhaven/vault-crypto';
import type { CliTarget } from './bw-cli.suite';

const PASSWORD = 'correct horse battery staple';
const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

interface BwItem {
  id: string;
  name: string;
  organizationId: string | null;
  collectionIds?: string[];
  login?: { username: string | null; password: string | null };
}

/**
 * Two users and the official CLI: the owner creates an organization (through the API, with
 * client-side keys, as the web vault does), invites the second user, who accepts; the owner confirms
 * with `bw confirm org-member`, shares items, imports and exports; the member decrypts them.
 */
/**
 * `clientEvents`: the target serves `events/collect` and stores what it takes (the all-in-one); the
 * split stack here routes only identity and api, so the CLI's own event upload has nowhere to go.
 */
export function orgCliSuite(name: string, target: () => CliTarget, options: { clientEvents: boolean }): void {
  describe(`organizations with the official bw CLI against ${name}`, () => {
    let server: CliTarget;
    let owner: Account;
    let member: Account;
    let ownerCli: BwCli;
    let memberCli: BwCli;
    let orgId = '';
    let memberId = '';
    let defaultCollectionId = '';
    let sharedCollectionId = '';
    const stamp = Date.now();
    const ownerEmail = `owner-${stamp}@example.com`;
    const memberEmail = `member-${stamp}@example.com`;
    const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-org-cli-'));

    before(async () => {
      server = target();
      owner = await registerAccount(server.http, ownerEmail, PASSWORD);
      member = await registerAccount(server.http, memberEmail, PASSWORD);
      ownerCli = new BwCli(server.caPath);
      memberCli = new BwCli(server.caPath);
    });

    after(() => {
      ownerCli.cleanup();
      memberCli.cleanup();
      rmSync(scratch, { recursive: true, force: true });
    });

    test('the owner creates an organization and invites a member, who accepts', async () => {
      const ownerSession = await passwordLogin(server.http, owner);
      const keys = await createOrganizationKeys(owner.publicKey);
      const created = await server.http.post<{ id: string }>('/api/organizations', {
        token: ownerSession.accessToken,
        json: {
          name: 'Acme',
          billingEmail: ownerEmail,
          planType: 0,
          key: keys.key,
          keys: { publicKey: keys.publicKey, encryptedPrivateKey: keys.encryptedPrivateKey },
          collectionName: encryptType2(keys.orgKey, 'Default collection'),
        },
      });
      assert.equal(created.status, 200, created.text);
      orgId = created.body.id;

      const invite = await server.http.post<{ data: { id: string; inviteUrl: string }[] }>(
        `/api/organizations/${orgId}/users/invite`,
        {
          token: ownerSession.accessToken,
          json: { emails: [memberEmail], type: 2, collections: [], groups: [] },
        },
      );
      assert.equal(invite.status, 200, invite.text);
      const [invited] = invite.body.data;
      assert.ok(invited, 'one member invited');
      memberId = invited.id;
      const link = new URL(invited.inviteUrl.replace('/#/', '/'));
      assert.equal(link.pathname, '/accept-organization');
      assert.equal(link.searchParams.get('organizationUserId'), memberId);

      const memberSession = await passwordLogin(server.http, member);
      const accept = await server.http.post(`/api/organizations/${orgId}/users/${memberId}/accept`, {
        token: memberSession.accessToken,
        json: { token: link.searchParams.get('token') },
      });
      assert.equal(accept.status, 200, accept.text);
      const again = await server.http.post(`/api/organizations/${orgId}/users/${memberId}/accept`, {
        token: memberSession.accessToken,
        json: { token: link.searchParams.get('token') },
      });
      assert.equal(again.status, 400, 'an invitation works once');
    });

    test('bw confirm org-member, list organizations, org-collections and org-members', async () => {
      await ownerCli.ok(['config', 'server', server.url]);
      ownerCli.session = (await ownerCli.ok(['login', ownerEmail, PASSWORD, '--raw'])).trim();
      await ownerCli.ok(['confirm', 'org-member', memberId, '--organizationid', orgId]);
      await ownerCli.ok(['sync', '--force']);
      const orgs = await ownerCli.json<{ id: string; name: string; status: number; type: number }[]>([
        'list',
        'organizations',
      ]);
      assert.deepEqual(
        orgs.map((o) => [o.id, o.name, o.status, o.type]),
        [[orgId, 'Acme', 2, 0]],
      );
      const collections = await ownerCli.json<{ id: string; name: string }[]>([
        'list',
        'org-collections',
        '--organizationid',
        orgId,
      ]);
      assert.deepEqual(
        collections.map((c) => c.name),
        ['Default collection'],
      );
      defaultCollectionId = collections[0]?.id ?? '';
      const members = await ownerCli.json<{ id: string; email: string; status: number; type: number }[]>([
        'list',
        'org-members',
        '--organizationid',
        orgId,
      ]);
      const confirmed = members.find((m) => m.id === memberId);
      assert.equal(confirmed?.status, 2, 'the member is confirmed');
      assert.equal(confirmed.email, memberEmail);
    });

    test('bw create org-collection gives the member access', async () => {
      const made = await ownerCli.json<{ id: string; name: string }>([
        'create',
        'org-collection',
        '--organizationid',
        orgId,
        encode({
          organizationId: orgId,
          name: 'Shared with member',
          externalId: null,
          groups: [],
          users: [{ id: memberId, readOnly: false, hidePasswords: false, manage: false }],
        }),
      ]);
      assert.equal(made.name, 'Shared with member');
      sharedCollectionId = made.id;
      await ownerCli.ok(['sync', '--force']);
      const names = (await ownerCli.json<{ name: string }[]>(['list', 'org-collections', '--organizationid', orgId]))
        .map((c) => c.name)
        .sort();
      assert.deepEqual(names, ['Default collection', 'Shared with member']);
    });

    test('bw move shares a personal item into the organization', async () => {
      const item = await ownerCli.json<BwItem>([
        'create',
        'item',
        encode({
          type: 1,
          name: 'Shared router',
          login: { username: 'admin', password: 'router-secret', uris: [] },
          notes: 'rack 4',
        }),
      ]);
      await ownerCli.ok(['move', item.id, orgId, encode([sharedCollectionId])]);
      await ownerCli.ok(['sync', '--force']);
      const orgItems = await ownerCli.json<BwItem[]>(['list', 'items', '--organizationid', orgId]);
      const moved = orgItems.find((i) => i.id === item.id);
      assert.equal(moved?.organizationId, orgId);
      assert.deepEqual(moved.collectionIds, [sharedCollectionId]);
      assert.equal(moved.login?.password, 'router-secret');
    });

    test('bw import --organizationid brings items and collections into the organization', async () => {
      const file = join(scratch, 'org-import.json');
      writeFileSync(
        file,
        JSON.stringify({
          encrypted: false,
          collections: [
            {
              id: 'a6b1c8d0-4e2f-4a3b-9c1d-2e3f4a5b6c7d',
              organizationId: orgId,
              name: 'Imported collection',
              externalId: null,
            },
          ],
          items: [
            {
              type: 1,
              name: 'Imported org login',
              notes: null,
              favorite: false,
              login: { username: 'svc', password: 'imported-org-pw', uris: [] },
              collectionIds: ['a6b1c8d0-4e2f-4a3b-9c1d-2e3f4a5b6c7d'],
              reprompt: 0,
            },
          ],
        }),
      );
      await ownerCli.ok(['import', 'bitwardenjson', file, '--organizationid', orgId]);
      await ownerCli.ok(['sync', '--force']);
      const items = await ownerCli.json<BwItem[]>(['list', 'items', '--organizationid', orgId]);
      assert.equal(items.find((i) => i.name === 'Imported org login')?.login?.password, 'imported-org-pw');
      const collections = (
        await ownerCli.json<{ name: string }[]>(['list', 'org-collections', '--organizationid', orgId])
      ).map((c) => c.name);
      assert.ok(collections.includes('Imported collection'));
    });

    test('bw export --organizationid writes every org item', async () => {
      const file = join(scratch, 'org-export.json');
      await ownerCli.ok(['export', '--organizationid', orgId, '--format', 'json', '--output', file]);
      const exported = JSON.parse(readFileSync(file, 'utf8')) as { items: BwItem[]; collections: { name: string }[] };
      assert.deepEqual(exported.items.map((i) => i.name).sort(), ['Imported org login', 'Shared router']);
      assert.ok(exported.collections.some((c) => c.name === 'Shared with member'));

      // The CLI reports the export itself (POST events/collect, type 1602): it reaches the organization's event log.
      if (!options.clientEvents) return;
      const ownerSession = await passwordLogin(server.http, owner);
      const start = new Date(stamp - 60_000).toISOString();
      let exportedEvents: { type: number; actingUserId: string | null }[] = [];
      for (let i = 0; i < 100 && exportedEvents.length === 0; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 200));
        const events = await server.http.get<{ data: { type: number; actingUserId: string | null }[] }>(
          `/api/organizations/${orgId}/events?start=${start}&end=${new Date(Date.now() + 60_000).toISOString()}`,
          { token: ownerSession.accessToken },
        );
        assert.equal(events.status, 200, events.text);
        exportedEvents = events.body.data.filter((e) => e.type === 1602);
      }
      assert.equal(exportedEvents.length, 1, 'one Organization_ClientExportedVault event, from the CLI');
      const profile = await server.http.get<{ id: string }>('/api/accounts/profile', {
        token: ownerSession.accessToken,
      });
      assert.equal(exportedEvents[0]?.actingUserId, profile.body.id, 'acting user: the owner who exported');
    });

    test('the member decrypts the shared item with their own CLI, and sees only their collection', async () => {
      await memberCli.ok(['config', 'server', server.url]);
      memberCli.session = (await memberCli.ok(['login', memberEmail, PASSWORD, '--raw'])).trim();
      const orgs = await memberCli.json<{ id: string; type: number }[]>(['list', 'organizations']);
      assert.deepEqual(
        orgs.map((o) => [o.id, o.type]),
        [[orgId, 2]],
      );
      const items = await memberCli.json<BwItem[]>(['list', 'items', '--organizationid', orgId]);
      assert.deepEqual(
        items.map((i) => i.name),
        ['Shared router'],
      );
      assert.equal(items[0]?.login?.password, 'router-secret');
      const collections = await memberCli.json<{ id: string }[]>(['list', 'collections']);
      assert.deepEqual(
        collections.map((c) => c.id),
        [sharedCollectionId],
      );
      assert.notEqual(defaultCollectionId, '');
    });
  });
}
