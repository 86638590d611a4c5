import { apiKey, str, strOrNull, type ImportContext, type Row } from './context';
import { bool, memberType } from './mapping';

/**
 * Organizations with their keys and API key, collections, memberships (invitations stay invitations, matched by
 * email when accepted) and each member's collection assignments. Answers the collections of each organization
 * (groups.ts turns "access all" into assignments too).
 */
export async function importOrganizations(ctx: ImportContext): Promise<(orgId: string) => string[]> {
  const { accounts, emailOf, orgIds, collectionOrg, memberOf, memberIds } = ctx.state;
  const orgKeys = new Map(
    (await ctx.rowsOf('organization_api_key'))
      .filter((k) => Number(k['atype']) === 0)
      .map((k) => [str(k['org_uuid']), str(k['api_key'])]),
  );
  const organizations = await ctx.rowsOf('organizations');
  for (const o of organizations) orgIds.add(str(o['uuid']));
  await ctx.insert(
    'organizations',
    'organization',
    organizations.map((o) => ({
      id: str(o['uuid']),
      name: str(o['name']),
      billing_email: str(o['billing_email']),
      public_key: strOrNull(o['public_key']),
      private_key: strOrNull(o['private_key']),
      api_key: orgKeys.get(str(o['uuid'])) ?? apiKey(),
      enabled: true,
      creation_date: ctx.now,
      revision_date: ctx.now,
    })),
    'id',
  );

  const collections = (await ctx.rowsOf('collections')).filter((c) => orgIds.has(str(c['org_uuid'])));
  for (const c of collections) collectionOrg.set(str(c['uuid']), str(c['org_uuid']));
  const collectionsOfOrg = (orgId: string): string[] =>
    collections.filter((c) => str(c['org_uuid']) === orgId).map((c) => str(c['uuid']));
  await ctx.insert(
    'collections',
    'collection',
    collections.map((c) => ({
      id: str(c['uuid']),
      organization_id: str(c['org_uuid']),
      name: str(c['name']),
      external_id: strOrNull(c['external_id']),
      creation_date: ctx.now,
      revision_date: ctx.now,
    })),
    'id',
  );

  const managers = new Set<string>();
  const memberRows: Row[] = [];
  const accessAll: Row[] = [];
  for (const m of (await ctx.rowsOf('users_organizations')).filter((x) => orgIds.has(str(x['org_uuid'])))) {
    const userId = str(m['user_uuid']);
    const orgId = str(m['org_uuid']);
    const status = Number(m['status']);
    const invited = status === 0;
    const email = emailOf.get(userId);
    if (!invited && !accounts.has(userId)) {
      ctx.skip('memberships', `${email ?? userId} in ${orgId}`, 'the member account was not imported');
      continue;
    }
    if (invited && !email) {
      ctx.skip('memberships', str(m['uuid']), 'an invitation without an email');
      continue;
    }
    const { type, managesAssigned } = memberType(Number(m['atype']));
    memberOf.set(`${userId}/${orgId}`, str(m['uuid']));
    memberIds.add(str(m['uuid']));
    if (managesAssigned) managers.add(str(m['uuid']));
    memberRows.push({
      id: str(m['uuid']),
      organization_id: orgId,
      // An invitation is matched by email when it is accepted, as Bitwarden's are.
      user_id: invited ? null : userId,
      email: invited ? email : null,
      key: strOrNull(m['akey']),
      reset_password_key: strOrNull(m['reset_password_key']),
      status,
      type,
      external_id: strOrNull(m['external_id']),
      creation_date: ctx.now,
      revision_date: ctx.now,
    });
    // Bitwarden has no "access all collections" any more: each collection is assigned instead.
    if (bool(m['access_all'])) {
      for (const collectionId of collectionsOfOrg(orgId)) {
        accessAll.push({
          collection_id: collectionId,
          organization_user_id: str(m['uuid']),
          read_only: false,
          hide_passwords: false,
          manage: managesAssigned,
        });
      }
    }
  }
  await ctx.insert('memberships', 'organization_user', memberRows, 'id');

  const assignments: Row[] = [];
  for (const a of await ctx.rowsOf('users_collections')) {
    const orgId = collectionOrg.get(str(a['collection_uuid']));
    const memberId = orgId ? memberOf.get(`${str(a['user_uuid'])}/${orgId}`) : undefined;
    if (!memberId) continue;
    assignments.push({
      collection_id: str(a['collection_uuid']),
      organization_user_id: memberId,
      read_only: bool(a['read_only']),
      hide_passwords: bool(a['hide_passwords']),
      manage: bool(a['manage']) || managers.has(memberId),
    });
  }
  await ctx.insert(
    'collection assignments',
    'collection_user',
    [...assignments, ...accessAll],
    `collection_id || '/' || organization_user_id`,
  );
  return collectionsOfOrg;
}
