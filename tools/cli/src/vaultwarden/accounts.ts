import { createHash } from 'node:crypto';
import { importedPbkdf2Hash } from '@keyhaven/domain-auth';
import { apiKey, buf, numOrNull, str, strOrNull, type ImportContext, type Row } from './context';
import { bool, parseJson, utc } from './mapping';

/**
 * Accounts with their keys, KDF settings, the server-side password hash (verified at the next login, then
 * re-hashed with Argon2id), the authenticator secret and recovery code; then their folders.
 * `totpOf`: each user's enabled authenticator secret (two-factor.ts reads the twofactor table).
 */
export async function importAccounts(ctx: ImportContext, totpOf: ReadonlyMap<string, string>): Promise<void> {
  const { accounts, emailOf } = ctx.state;
  const users = await ctx.rowsOf('users');
  const present = new Map(
    (
      await ctx.target.query<{ id: string; email: string }>(
        'SELECT id::text AS id, email FROM app_user WHERE email = ANY($1)',
        [users.map((u) => str(u['email']).toLowerCase())],
      )
    ).map((u) => [u.email, u.id]),
  );
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
      ctx.skip(
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
      kdf_memory: numOrNull(u['client_kdf_memory']),
      kdf_parallelism: numOrNull(u['client_kdf_parallelism']),
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
  await ctx.insert('users', 'app_user', userRows, 'id');

  const folderRows: Row[] = [];
  for (const f of await ctx.rowsOf('folders')) {
    const userId = str(f['user_uuid']);
    if (!accounts.has(userId)) continue;
    ctx.state.folderOwner.set(str(f['uuid']), userId);
    folderRows.push({
      id: str(f['uuid']),
      user_id: userId,
      name: str(f['name']),
      creation_date: utc(f['created_at']),
      revision_date: utc(f['updated_at']),
    });
  }
  await ctx.insert('folders', 'folder', folderRows, 'id');
}
