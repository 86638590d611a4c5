import { str, strOrNull, type ImportContext, type Row } from './context';
import { bool, policyData, utc } from './mapping';

/** Groups, their members and collections ("access all" as one assignment per collection), and policies. */
export async function importGroupsAndPolicies(
  ctx: ImportContext,
  collectionsOfOrg: (orgId: string) => string[],
): Promise<void> {
  const { orgIds, collectionOrg, memberIds } = ctx.state;
  const groups = (await ctx.rowsOf('groups')).filter((g) => orgIds.has(str(g['organizations_uuid'])));
  const groupIds = new Set(groups.map((g) => str(g['uuid'])));
  await ctx.insert(
    'groups',
    'org_group',
    groups.map((g) => ({
      id: str(g['uuid']),
      organization_id: str(g['organizations_uuid']),
      name: str(g['name']),
      external_id: strOrNull(g['external_id']),
      creation_date: utc(g['creation_date']) ?? ctx.now,
      revision_date: utc(g['revision_date']) ?? ctx.now,
    })),
    'id',
  );
  await ctx.insert(
    'group members',
    'group_user',
    (await ctx.rowsOf('groups_users'))
      .filter((g) => groupIds.has(str(g['groups_uuid'])) && memberIds.has(str(g['users_organizations_uuid'])))
      .map((g) => ({ group_id: str(g['groups_uuid']), organization_user_id: str(g['users_organizations_uuid']) })),
    `group_id || '/' || organization_user_id`,
  );
  const groupAccess: Row[] = (await ctx.rowsOf('collections_groups'))
    .filter((c) => groupIds.has(str(c['groups_uuid'])) && collectionOrg.has(str(c['collections_uuid'])))
    .map((c) => ({
      collection_id: str(c['collections_uuid']),
      group_id: str(c['groups_uuid']),
      read_only: bool(c['read_only']),
      hide_passwords: bool(c['hide_passwords']),
      manage: bool(c['manage']),
    }));
  for (const g of groups.filter((x) => bool(x['access_all']))) {
    for (const collectionId of collectionsOfOrg(str(g['organizations_uuid']))) {
      groupAccess.push({
        collection_id: collectionId,
        group_id: str(g['uuid']),
        read_only: false,
        hide_passwords: false,
        manage: false,
      });
    }
  }
  await ctx.insert('group collections', 'collection_group', groupAccess, `collection_id || '/' || group_id`);

  await ctx.insert(
    'policies',
    'policy',
    (await ctx.rowsOf('org_policies'))
      .filter((p) => orgIds.has(str(p['org_uuid'])))
      .map((p) => ({
        id: str(p['uuid']),
        organization_id: str(p['org_uuid']),
        type: Number(p['atype']),
        data: policyData(p['data']),
        enabled: bool(p['enabled']),
        creation_date: ctx.now,
        revision_date: ctx.now,
      })),
    'id',
  );
}
