import { randomUUID } from 'node:crypto';
import {
  createOrganizationKeys,
  encryptType2,
  wrapOrgKeyForMember,
  type PlainCipher,
  type SymmetricKey,
} from '@keyhaven/vault-crypto';
import type { VaultwardenPerson } from './vaultwarden-fixture';

export type InsertRow = (table: string, row: Record<string, unknown>) => void;
export type InsertCipher = (key: SymmetricKey, plain: PlainCipher, owner: { user?: string; org?: string }) => string;

/**
 * The fixture's organization as Vaultwarden stores it: Alice owns it (access to all collections), Bob is a
 * confirmed user of its one collection (directly and through a group), Carol is invited; a policy and one
 * shared item in the collection.
 */
export async function addVaultwardenOrganization(
  insert: InsertRow,
  cipher: InsertCipher,
  people: { alice: VaultwardenPerson; bob: VaultwardenPerson; carolId: string },
  now: string,
): Promise<{ orgId: string; orgKey: SymmetricKey; sharedId: string; sharedItemName: string }> {
  const { alice, bob, carolId } = people;
  const orgKeys = await createOrganizationKeys(alice.account.publicKey);
  const orgId = randomUUID();
  insert('organizations', {
    uuid: orgId,
    name: 'Vaultwarden team',
    billing_email: alice.email,
    private_key: orgKeys.encryptedPrivateKey,
    public_key: orgKeys.publicKey,
  });
  insert('organization_api_key', {
    uuid: randomUUID(),
    org_uuid: orgId,
    atype: 0,
    api_key: 'A'.repeat(30),
    revision_date: now,
  });
  const collectionId = randomUUID();
  insert('collections', { uuid: collectionId, org_uuid: orgId, name: encryptType2(orgKeys.orgKey, 'Engineering') });
  const aliceMember = randomUUID();
  const bobMember = randomUUID();
  insert('users_organizations', {
    uuid: aliceMember,
    user_uuid: alice.id,
    org_uuid: orgId,
    access_all: true,
    akey: orgKeys.key,
    status: 2,
    atype: 0,
  });
  insert('users_organizations', {
    uuid: bobMember,
    user_uuid: bob.id,
    org_uuid: orgId,
    access_all: false,
    akey: wrapOrgKeyForMember(orgKeys.orgKey, bob.account.publicKey),
    status: 2,
    atype: 2,
  });
  insert('users_organizations', {
    uuid: randomUUID(),
    user_uuid: carolId,
    org_uuid: orgId,
    invited_by_email: alice.email,
    access_all: false,
    akey: '',
    status: 0,
    atype: 2,
  });
  insert('users_collections', {
    user_uuid: bob.id,
    collection_uuid: collectionId,
    read_only: false,
    hide_passwords: false,
  });
  const groupId = randomUUID();
  insert('groups', {
    uuid: groupId,
    organizations_uuid: orgId,
    name: 'Ops',
    access_all: false,
    creation_date: now,
    revision_date: now,
  });
  insert('groups_users', { groups_uuid: groupId, users_organizations_uuid: bobMember });
  insert('collections_groups', {
    collections_uuid: collectionId,
    groups_uuid: groupId,
    read_only: true,
    hide_passwords: false,
  });
  insert('org_policies', {
    uuid: randomUUID(),
    org_uuid: orgId,
    atype: 1,
    enabled: true,
    data: '{"minLength":12,"requireUpper":true}',
  });
  const sharedItemName = 'Shared VPN';
  const sharedId = cipher(
    orgKeys.orgKey,
    { type: 1, name: sharedItemName, login: { username: 'vpn', password: 'shared-secret', uris: [] } },
    { org: orgId },
  );
  insert('ciphers_collections', { cipher_uuid: sharedId, collection_uuid: collectionId });
  return { orgId, orgKey: orgKeys.orgKey, sharedId, sharedItemName };
}
