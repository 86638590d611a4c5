import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { importedPbkdf2Hash } from '@keyhaven/domain-auth';
import type { StoreSession } from '@keyhaven/runtime';
import type { BlobStore } from '@keyhaven/storage';
import { bool, cipherData, lowerKeys, memberType, parseJson, policyData, utc, type VwCipher } from './mapping';
import type { VaultwardenSource } from './source';

export interface EntityCount {
  read: number;
  created: number;
  /** Already in Keyhaven (an earlier run): left as they are. */
  existing: number;
  /** Not imported; the reasons are in `skipped`. */
  skipped: number;
}

export interface VaultwardenSummary {
  dryRun: boolean;
  source: 'sqlite' | 'postgres';
  entities: Record<string, EntityCount>;
  skipped: { what: string; reason: string }[];
  /** Vaultwarden data this importer does not carry over (each with why). */
  notMigrated: string[];
  ms: number;
}

export interface ImportVaultwardenOptions {
  /** Vaultwarden's data folder (attachments under `attachments/<cipher>/<id>`); attachments are skipped without it. */
  readonly dataDir?: string | undefined;
  readonly dryRun: boolean;
  readonly progress?: (phase: string, done: number, total: number) => void;
}

type Row = Record<string, unknown>;

const BATCH = 500;
const API_KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function apiKey(): string {
  return [...randomBytes(30)].map((b) => API_KEY_CHARS[b % API_KEY_CHARS.length]).join('');
}

const str = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : '';
const strOrNull = (v: unknown): string | null => (v === null || v === undefined || v === '' ? null : str(v));
const buf = (v: unknown): Buffer =>
  Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : Buffer.alloc(0);

/**
 * Moves a whole Vaultwarden instance into Keyhaven's database in one transaction (rolled back for a dry run):
 * accounts with their keys, KDF settings, server-side password hashes (verified at the next login, then
 * re-hashed with Argon2id) and authenticator two-step login; folders, items with their folders and favourites,
 * organizations, memberships with their keys, collections, groups, policies, emergency access, Sends, the
 * event log, and the attachment and Send files from the data folder. Ids are kept, and every insert skips what is already there, so a
 * second run creates nothing.
 */
export async function importVaultwarden(
  source: VaultwardenSource,
  target: StoreSession,
  blobs: BlobStore | null,
  options: ImportVaultwardenOptions,
): Promise<VaultwardenSummary> {
  const started = performance.now();
  const progress = options.progress ?? (() => undefined);
  const entities: Record<string, EntityCount> = {};
  const skipped: VaultwardenSummary['skipped'] = [];
  const notMigrated: string[] = [];
  const count = (name: string): EntityCount => (entities[name] ??= { read: 0, created: 0, existing: 0, skipped: 0 });
  const skip = (name: string, what: string, reason: string): void => {
    count(name).skipped++;
    skipped.push({ what, reason });
  };
  const rowsOf = async (table: string): Promise<Row[]> => ((await source.has(table)) ? source.rows<Row>(table) : []);

  /** Inserts rows (keys = columns) that are not there yet; answers the `returning` values of the new ones. */
  async function insert(name: string, table: string, rows: Row[], returning: string): Promise<string[]> {
    const entity = count(name);
    entity.read += rows.length;
    const created: string[] = [];
    if (rows.length === 0) return created;
    const columns = Object.keys(rows[0] ?? {}).join(', ');
    for (let i = 0; i < rows.length; i += BATCH) {
      progress(name, i, rows.length);
      const batch = rows.slice(i, i + BATCH);
      const out = await target.query<{ k: string }>(
        `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM json_populate_recordset(NULL::${table}, $1::json)
         ON CONFLICT DO NOTHING RETURNING (${returning})::text AS k`,
        [JSON.stringify(batch)],
      );
      created.push(...out.map((r) => r.k));
    }
    progress(name, rows.length, rows.length);
    entity.created += created.length;
    entity.existing += rows.length - created.length;
    return created;
  }

  await target.query('BEGIN');
  try {
    // ---- accounts
    const users = await rowsOf('users');
    const twoFactor = await rowsOf('twofactor');
    const totpOf = new Map(
      twoFactor
        .filter((t) => Number(t['atype']) === 0 && bool(t['enabled']))
        .map((t) => [str(t['user_uuid']), str(t['data'])]),
    );
    const otherTwoFactor = twoFactor.filter((t) => bool(t['enabled']) && ![0, 5].includes(Number(t['atype'])));
    if (otherTwoFactor.length > 0) {
      notMigrated.push(
        `${otherTwoFactor.length} two-step login setting(s) other than the authenticator app (e-mail, Duo, YubiKey, WebAuthn): users set them up again`,
      );
    }
    const present = new Map(
      (
        await target.query<{ id: string; email: string }>(
          'SELECT id::text AS id, email FROM app_user WHERE email = ANY($1)',
          [users.map((u) => str(u['email']).toLowerCase())],
        )
      ).map((u) => [u.email, u.id]),
    );
    const accounts = new Set<string>();
    const emailOf = new Map<string, string>();
    const userRows: Row[] = [];
    for (const u of users) {
      const id = str(u['uuid']);
      const email = str(u['email']).toLowerCase();
      emailOf.set(id, email);
      if (buf(u['password_hash']).length === 0 || str(u['akey']) === '') {
        // Invited to an organization but never registered: no account, the invitation moves as an invitation.
        continue;
      }
      const existing = present.get(email);
      if (existing !== undefined && existing !== id) {
        skip(
          'users',
          email,
          'a different Keyhaven account already has this email; its items, folders and memberships are skipped too',
        );
        continue;
      }
      accounts.add(id);
      const recovery = strOrNull(u['totp_recover']);
      userRows.push({
        id,
        email,
        email_verified: u['verified_at'] !== null && u['verified_at'] !== undefined,
        name: strOrNull(u['name']),
        master_password_hash: importedPbkdf2Hash(
          buf(u['salt']),
          buf(u['password_hash']),
          Number(u['password_iterations']),
        ),
        master_password_hint: strOrNull(u['password_hint']),
        key: str(u['akey']),
        public_key: strOrNull(u['public_key']),
        private_key: strOrNull(u['private_key']),
        kdf: Number(u['client_kdf_type']),
        kdf_iterations: Number(u['client_kdf_iter']),
        kdf_memory: u['client_kdf_memory'] === null ? null : Number(u['client_kdf_memory']),
        kdf_parallelism: u['client_kdf_parallelism'] === null ? null : Number(u['client_kdf_parallelism']),
        security_stamp: str(u['security_stamp']),
        api_key: strOrNull(u['api_key']) ?? apiKey(),
        culture: 'en-US',
        avatar_color: strOrNull(u['avatar_color']),
        premium: true,
        totp_secret: totpOf.get(id) ?? null,
        recovery_code_hash: recovery
          ? createHash('sha256').update(recovery.replace(/\s+/g, '').toUpperCase()).digest('hex')
          : null,
        equivalent_domains: parseJson(u['equivalent_domains']),
        excluded_global_domains: parseJson(u['excluded_globals']),
        failed_login_count: 0,
        creation_date: utc(u['created_at']),
        revision_date: utc(u['updated_at']),
        account_revision_date: utc(u['updated_at']),
        verify_devices: true,
        force_password_reset: false,
        enabled: bool(u['enabled']),
        uses_key_connector: false,
      });
    }
    await insert('users', 'app_user', userRows, 'id');

    // ---- folders
    const folders = await rowsOf('folders');
    const folderOwner = new Map<string, string>();
    const folderRows: Row[] = [];
    for (const f of folders) {
      const userId = str(f['user_uuid']);
      if (!accounts.has(userId)) continue;
      folderOwner.set(str(f['uuid']), userId);
      folderRows.push({
        id: str(f['uuid']),
        user_id: userId,
        name: str(f['name']),
        creation_date: utc(f['created_at']),
        revision_date: utc(f['updated_at']),
      });
    }
    await insert('folders', 'folder', folderRows, 'id');

    // ---- organizations
    const orgKeys = new Map(
      (await rowsOf('organization_api_key'))
        .filter((k) => Number(k['atype']) === 0)
        .map((k) => [str(k['org_uuid']), str(k['api_key'])]),
    );
    const now = new Date().toISOString();
    const organizations = await rowsOf('organizations');
    const orgIds = new Set(organizations.map((o) => str(o['uuid'])));
    await insert(
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
        creation_date: now,
        revision_date: now,
      })),
      'id',
    );

    const collections = (await rowsOf('collections')).filter((c) => orgIds.has(str(c['org_uuid'])));
    const collectionOrg = new Map(collections.map((c) => [str(c['uuid']), str(c['org_uuid'])]));
    const collectionsOfOrg = (orgId: string): string[] =>
      collections.filter((c) => str(c['org_uuid']) === orgId).map((c) => str(c['uuid']));
    await insert(
      'collections',
      'collection',
      collections.map((c) => ({
        id: str(c['uuid']),
        organization_id: str(c['org_uuid']),
        name: str(c['name']),
        external_id: strOrNull(c['external_id']),
        creation_date: now,
        revision_date: now,
      })),
      'id',
    );

    // ---- memberships
    const memberships = (await rowsOf('users_organizations')).filter((m) => orgIds.has(str(m['org_uuid'])));
    const memberOf = new Map<string, string>(); // `${user}/${org}` → membership id
    const managers = new Set<string>();
    const memberRows: Row[] = [];
    const accessAll: Row[] = [];
    for (const m of memberships) {
      const userId = str(m['user_uuid']);
      const status = Number(m['status']);
      const invited = status === 0;
      const email = emailOf.get(userId);
      if (!invited && !accounts.has(userId)) {
        skip('memberships', `${email ?? userId} in ${str(m['org_uuid'])}`, 'the member account was not imported');
        continue;
      }
      if (invited && !email) {
        skip('memberships', str(m['uuid']), 'an invitation without an email');
        continue;
      }
      const { type, managesAssigned } = memberType(Number(m['atype']));
      memberOf.set(`${userId}/${str(m['org_uuid'])}`, str(m['uuid']));
      if (managesAssigned) managers.add(str(m['uuid']));
      memberRows.push({
        id: str(m['uuid']),
        organization_id: str(m['org_uuid']),
        // An invitation is matched by email when it is accepted, as Bitwarden's are.
        user_id: invited ? null : userId,
        email: invited ? email : null,
        key: strOrNull(m['akey']),
        reset_password_key: strOrNull(m['reset_password_key']),
        status,
        type,
        external_id: strOrNull(m['external_id']),
        creation_date: now,
        revision_date: now,
      });
      // Bitwarden has no "access all collections" any more: each collection is assigned instead.
      if (bool(m['access_all'])) {
        for (const collectionId of collectionsOfOrg(str(m['org_uuid']))) {
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
    await insert('memberships', 'organization_user', memberRows, 'id');

    const assignments: Row[] = [];
    for (const a of await rowsOf('users_collections')) {
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
    await insert(
      'collection assignments',
      'collection_user',
      [...assignments, ...accessAll],
      `collection_id || '/' || organization_user_id`,
    );

    // ---- groups
    const groups = (await rowsOf('groups')).filter((g) => orgIds.has(str(g['organizations_uuid'])));
    const groupIds = new Set(groups.map((g) => str(g['uuid'])));
    await insert(
      'groups',
      'org_group',
      groups.map((g) => ({
        id: str(g['uuid']),
        organization_id: str(g['organizations_uuid']),
        name: str(g['name']),
        external_id: strOrNull(g['external_id']),
        creation_date: utc(g['creation_date']) ?? now,
        revision_date: utc(g['revision_date']) ?? now,
      })),
      'id',
    );
    const memberIds = new Set(memberRows.map((m) => str(m['id'])));
    await insert(
      'group members',
      'group_user',
      (await rowsOf('groups_users'))
        .filter((g) => groupIds.has(str(g['groups_uuid'])) && memberIds.has(str(g['users_organizations_uuid'])))
        .map((g) => ({ group_id: str(g['groups_uuid']), organization_user_id: str(g['users_organizations_uuid']) })),
      `group_id || '/' || organization_user_id`,
    );
    const groupAccess: Row[] = (await rowsOf('collections_groups'))
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
    await insert('group collections', 'collection_group', groupAccess, `collection_id || '/' || group_id`);

    // ---- policies
    await insert(
      'policies',
      'policy',
      (await rowsOf('org_policies'))
        .filter((p) => orgIds.has(str(p['org_uuid'])))
        .map((p) => ({
          id: str(p['uuid']),
          organization_id: str(p['org_uuid']),
          type: Number(p['atype']),
          data: policyData(p['data']),
          enabled: bool(p['enabled']),
          creation_date: now,
          revision_date: now,
        })),
      'id',
    );

    // ---- items
    const ciphers = (await rowsOf('ciphers')) as unknown as VwCipher[];
    const cipherIds = new Set<string>();
    const cipherRows: Row[] = [];
    for (const c of ciphers) {
      const owned = c.user_uuid ? accounts.has(c.user_uuid) : false;
      const shared = c.organization_uuid ? orgIds.has(c.organization_uuid) : false;
      if (!owned && !shared) {
        skip('items', c.uuid, 'its owner was not imported');
        continue;
      }
      cipherIds.add(c.uuid);
      cipherRows.push({
        id: c.uuid,
        user_id: c.organization_uuid ? null : c.user_uuid,
        organization_id: c.organization_uuid,
        type: c.atype,
        data: cipherData(c),
        key: c.key,
        reprompt: Number(c.reprompt) === 1 ? 1 : 0,
        creation_date: utc(c.created_at),
        revision_date: utc(c.updated_at),
        deleted_date: utc(c.deleted_at),
      });
    }
    await insert('items', 'cipher', cipherRows, 'id');

    // Each user's folder and favourite of an item.
    const state = new Map<
      string,
      { user_id: string; cipher_id: string; folder_id: string | null; favorite: boolean }
    >();
    const stateOf = (userId: string, cipherId: string) => {
      const key = `${userId}/${cipherId}`;
      let s = state.get(key);
      if (!s) state.set(key, (s = { user_id: userId, cipher_id: cipherId, folder_id: null, favorite: false }));
      return s;
    };
    for (const fc of await rowsOf('folders_ciphers')) {
      const userId = folderOwner.get(str(fc['folder_uuid']));
      if (userId && cipherIds.has(str(fc['cipher_uuid'])))
        stateOf(userId, str(fc['cipher_uuid'])).folder_id = str(fc['folder_uuid']);
    }
    for (const f of await rowsOf('favorites')) {
      if (accounts.has(str(f['user_uuid'])) && cipherIds.has(str(f['cipher_uuid'])))
        stateOf(str(f['user_uuid']), str(f['cipher_uuid'])).favorite = true;
    }
    await insert('folders and favourites', 'cipher_user_state', [...state.values()], `user_id || '/' || cipher_id`);
    await insert(
      'item collections',
      'collection_cipher',
      (await rowsOf('ciphers_collections'))
        .filter((c) => cipherIds.has(str(c['cipher_uuid'])) && collectionOrg.has(str(c['collection_uuid'])))
        .map((c) => ({ collection_id: str(c['collection_uuid']), cipher_id: str(c['cipher_uuid']) })),
      `collection_id || '/' || cipher_id`,
    );

    // ---- attachments: the row only with its file, the file only for a new row
    const attachmentRows: Row[] = [];
    const files = new Map<string, string>();
    for (const a of await rowsOf('attachments')) {
      const id = str(a['id']);
      const cipherId = str(a['cipher_uuid']);
      if (!cipherIds.has(cipherId)) continue;
      if (!/^[a-z0-9]{1,64}$/.test(id)) {
        skip('attachments', `${cipherId}/${id}`, 'an attachment id Keyhaven cannot serve');
        continue;
      }
      if (!options.dataDir) {
        skip('attachments', `${cipherId}/${id}`, 'no --data-dir: the file cannot be read');
        continue;
      }
      const path = join(options.dataDir, 'attachments', cipherId, id);
      const size = await stat(path).then(
        (s) => s.size,
        () => null,
      );
      if (size === null) {
        skip('attachments', `${cipherId}/${id}`, `the file ${path} is missing`);
        continue;
      }
      files.set(`${cipherId}/${id}`, path);
      attachmentRows.push({
        id,
        cipher_id: cipherId,
        file_name: str(a['file_name']),
        key: strOrNull(a['akey']),
        size,
        validated: true,
        creation_date: now,
      });
    }
    const newAttachments = await insert('attachments', 'attachment', attachmentRows, `cipher_id || '/' || id`);
    if (!options.dryRun && blobs) {
      for (const [i, key] of newAttachments.entries()) {
        progress('attachment files', i, newAttachments.length);
        const body = await readFile(files.get(key) ?? '');
        await blobs.put(`attachments/${key}`, body, body.length);
      }
    }

    // ---- emergency access
    await insert(
      'emergency access',
      'emergency_access',
      (await rowsOf('emergency_access'))
        .filter(
          (e) =>
            accounts.has(str(e['grantor_uuid'])) &&
            (e['grantee_uuid'] === null || accounts.has(str(e['grantee_uuid']))),
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

    // ---- Sends (personal ones; a password keeps Vaultwarden's PBKDF2 hash, checked the same way as accounts')
    const sendRows: Row[] = [];
    const sendFiles = new Map<string, string>();
    for (const x of await rowsOf('sends')) {
      const id = str(x['uuid']);
      const userId = strOrNull(x['user_uuid']);
      if (!userId || !accounts.has(userId)) {
        skip('sends', id, 'an organization Send, or its sender was not imported');
        continue;
      }
      const type = Number(x['atype']);
      const data = (lowerKeys(parseJson(x['data'])) ?? {}) as Record<string, unknown>;
      let fileId: string | null = null;
      let fileSize: number | null = null;
      if (type === 1) {
        fileId = strOrNull(data['id']);
        const path = fileId && options.dataDir ? join(options.dataDir, 'sends', id, fileId) : null;
        fileSize = path
          ? await stat(path).then(
              (f) => f.size,
              () => null,
            )
          : null;
        if (!fileId || !path || fileSize === null) {
          skip(
            'sends',
            id,
            options.dataDir ? 'the file of this file Send is missing' : 'no --data-dir: the file cannot be read',
          );
          continue;
        }
        sendFiles.set(`${id}/${fileId}`, path);
      }
      const hash = buf(x['password_hash']);
      sendRows.push({
        id,
        user_id: userId,
        type,
        auth_type: hash.length > 0 ? 1 : 2,
        name: str(x['name']),
        notes: strOrNull(x['notes']),
        key: str(x['akey']),
        data:
          type === 1
            ? { fileName: strOrNull(data['fileName']) }
            : { text: strOrNull(data['text']), hidden: bool(data['hidden']) },
        file_id: fileId,
        file_size: fileSize,
        file_uploaded: type === 1,
        password_hash:
          hash.length > 0 ? importedPbkdf2Hash(buf(x['password_salt']), hash, Number(x['password_iter'])) : null,
        max_access_count: x['max_access_count'] === null ? null : Number(x['max_access_count']),
        access_count: Number(x['access_count']),
        disabled: bool(x['disabled']),
        hide_email: bool(x['hide_email']),
        creation_date: utc(x['creation_date']),
        revision_date: utc(x['revision_date']),
        expiration_date: utc(x['expiration_date']),
        deletion_date: utc(x['deletion_date']),
      });
    }
    const newSends = await insert('sends', 'send', sendRows, `id || '/' || coalesce(file_id, '')`);
    if (!options.dryRun && blobs) {
      for (const key of newSends) {
        const path = sendFiles.get(key);
        if (!path) continue;
        const body = await readFile(path);
        await blobs.put(`sends/${key}`, body, body.length);
      }
    }
    // ---- the event log: Vaultwarden records Bitwarden's event numbers with the same columns, ids kept.
    await insert(
      'events',
      'event',
      (await rowsOf('event')).map((e) => ({
        id: str(e['uuid']),
        type: Number(e['event_type']),
        user_id: strOrNull(e['user_uuid']),
        organization_id: strOrNull(e['org_uuid']),
        cipher_id: strOrNull(e['cipher_uuid']),
        collection_id: strOrNull(e['collection_uuid']),
        group_id: strOrNull(e['group_uuid']),
        organization_user_id: strOrNull(e['org_user_uuid']),
        acting_user_id: strOrNull(e['act_user_uuid']),
        device_type: e['device_type'] === null || e['device_type'] === undefined ? null : Number(e['device_type']),
        ip_address: strOrNull(e['ip_address']),
        date: utc(e['event_date']),
        policy_id: strOrNull(e['policy_uuid']),
        provider_id: strOrNull(e['provider_uuid']),
        provider_user_id: strOrNull(e['provider_user_uuid']),
        provider_organization_id: strOrNull(e['provider_org_uuid']),
      })),
      'id',
    );
    if ((await rowsOf('archives')).length > 0)
      notMigrated.push('archived state of items (items are imported unarchived)');

    await target.query(options.dryRun ? 'ROLLBACK' : 'COMMIT');
  } catch (error) {
    await target.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return {
    dryRun: options.dryRun,
    source: source.kind,
    entities,
    skipped,
    notMigrated,
    ms: Math.round(performance.now() - started),
  };
}
