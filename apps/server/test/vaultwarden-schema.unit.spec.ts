import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { vaultwardenMigrations, vaultwardenSource } from './vaultwarden-migrations';
import { SQLITE_SCHEMA } from './vaultwarden-schema';

/**
 * The columns of every table the importer reads, in order, as Vaultwarden's SQLite migrations leave them at
 * commit 46d71107 (2026-08-20; last migration 2026-05-05-120000_sso_auth_error). Typed in by hand from that
 * checkout so the hand-written schema cannot drift without this list changing with it: a change here is a
 * decision to follow a newer Vaultwarden, made by re-running the import spec with VAULTWARDEN_SRC.
 */
const VAULTWARDEN_46D71107: Record<string, string> = {
  users:
    'uuid created_at updated_at email name password_hash salt password_iterations password_hint akey private_key ' +
    'public_key totp_secret totp_recover security_stamp equivalent_domains excluded_globals client_kdf_type ' +
    'client_kdf_iter verified_at last_verifying_at login_verify_count email_new email_new_token enabled ' +
    'stamp_exception api_key avatar_color client_kdf_memory client_kdf_parallelism external_id',
  twofactor: 'uuid user_uuid atype enabled data last_used',
  folders: 'uuid created_at updated_at user_uuid name',
  organizations: 'uuid name billing_email private_key public_key',
  organization_api_key: 'uuid org_uuid atype api_key revision_date',
  collections: 'uuid org_uuid name external_id',
  users_organizations:
    'uuid user_uuid org_uuid access_all akey status atype reset_password_key external_id invited_by_email',
  users_collections: 'user_uuid collection_uuid read_only hide_passwords manage',
  groups: 'uuid organizations_uuid name access_all external_id creation_date revision_date',
  groups_users: 'groups_uuid users_organizations_uuid',
  collections_groups: 'collections_uuid groups_uuid read_only hide_passwords manage',
  org_policies: 'uuid org_uuid atype enabled data',
  ciphers:
    'uuid created_at updated_at user_uuid organization_uuid atype name notes fields data password_history ' +
    'deleted_at reprompt key',
  folders_ciphers: 'cipher_uuid folder_uuid',
  favorites: 'user_uuid cipher_uuid',
  ciphers_collections: 'cipher_uuid collection_uuid',
  attachments: 'id cipher_uuid file_name file_size akey',
  emergency_access:
    'uuid grantor_uuid grantee_uuid email key_encrypted atype status wait_time_days recovery_initiated_at ' +
    'last_notification_at updated_at created_at',
  sends:
    'uuid user_uuid organization_uuid name notes atype data akey password_hash password_salt password_iter ' +
    'max_access_count access_count creation_date revision_date expiration_date deletion_date disabled hide_email',
  event:
    'uuid event_type user_uuid org_uuid cipher_uuid collection_uuid group_uuid org_user_uuid act_user_uuid ' +
    'device_type ip_address event_date policy_uuid provider_uuid provider_user_uuid provider_org_uuid',
  archives: 'user_uuid cipher_uuid archived_at',
};

/** Table → its columns in order, of an in-memory SQLite database built by `build`. */
function columns(build: (db: Database.Database) => void, tables: readonly string[]): Record<string, string> {
  const db = new Database(':memory:');
  try {
    build(db);
    return Object.fromEntries(
      tables.map((table) => [
        table,
        (db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[])
          .map((c) => c.name)
          .join(' '),
      ]),
    );
  } finally {
    db.close();
  }
}

void describe("the hand-written Vaultwarden schema (the import fixture's, when VAULTWARDEN_SRC is unset)", () => {
  it("has exactly the tables and columns of Vaultwarden 46d71107's migrations that the importer reads", () => {
    const db = new Database(':memory:');
    db.exec(SQLITE_SCHEMA);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[])
      .map((t) => t.name)
      .sort();
    db.close();
    assert.deepEqual(tables, Object.keys(VAULTWARDEN_46D71107).sort());
    assert.deepEqual(
      columns((d) => d.exec(SQLITE_SCHEMA), tables),
      VAULTWARDEN_46D71107,
    );
  });

  // Only where someone points it at a checkout (CI has none and no network): registered, not skipped, otherwise.
  const src = vaultwardenSource;
  if (src !== undefined) {
    it(`matches the SQLite migrations of the Vaultwarden checkout at ${src}`, () => {
      const real = columns((d) => {
        d.pragma('foreign_keys = OFF');
        for (const m of vaultwardenMigrations('sqlite', src)) d.exec(m.sql);
      }, Object.keys(VAULTWARDEN_46D71107));
      assert.deepEqual(real, VAULTWARDEN_46D71107);
    });
  }
});
