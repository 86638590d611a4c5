import { numOrNull, str, strOrNull, type ImportContext } from './context';
import { utc } from './mapping';

/** Emergency access between imported accounts (an invitation by email keeps its grantee empty). */
export async function importEmergencyAccess(ctx: ImportContext): Promise<void> {
  const { accounts } = ctx.state;
  await ctx.insert(
    'emergency access',
    'emergency_access',
    (await ctx.rowsOf('emergency_access'))
      .filter(
        (e) =>
          accounts.has(str(e['grantor_uuid'])) && (e['grantee_uuid'] === null || accounts.has(str(e['grantee_uuid']))),
      )
      .map((e) => ({
        id: str(e['uuid']),
        grantor_id: str(e['grantor_uuid']),
        grantee_id: strOrNull(e['grantee_uuid']),
        email: strOrNull(e['email']),
        key_encrypted: strOrNull(e['key_encrypted']),
        type: Number(e['atype']),
        status: Number(e['status']),
        wait_time_days: Number(e['wait_time_days']),
        recovery_initiated_date: utc(e['recovery_initiated_at']),
        last_notification_date: utc(e['last_notification_at']),
        creation_date: utc(e['created_at']),
        revision_date: utc(e['updated_at']),
      })),
    'id',
  );
}

/** The event log: Vaultwarden records Bitwarden's event numbers with the same columns, ids kept. */
export async function importEvents(ctx: ImportContext): Promise<void> {
  await ctx.insert(
    'events',
    'event',
    (await ctx.rowsOf('event')).map((e) => ({
      id: str(e['uuid']),
      type: Number(e['event_type']),
      user_id: strOrNull(e['user_uuid']),
      organization_id: strOrNull(e['org_uuid']),
      cipher_id: strOrNull(e['cipher_uuid']),
      collection_id: strOrNull(e['collection_uuid']),
      group_id: strOrNull(e['group_uuid']),
      organization_user_id: strOrNull(e['org_user_uuid']),
      acting_user_id: strOrNull(e['act_user_uuid']),
      device_type: numOrNull(e['device_type']),
      ip_address: strOrNull(e['ip_address']),
      date: utc(e['event_date']),
      policy_id: strOrNull(e['policy_uuid']),
      provider_id: strOrNull(e['provider_uuid']),
      provider_user_id: strOrNull(e['provider_user_uuid']),
      provider_organization_id: strOrNull(e['provider_org_uuid']),
    })),
    'id',
  );
}
