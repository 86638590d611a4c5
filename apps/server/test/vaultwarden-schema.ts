/**
 * Vaultwarden's tables as the importer reads them, with Vaultwarden's column names in its order, in the three
 * flavours of its per-backend migrations (migrations/{sqlite,postgresql,mysql}): SQLite's is written out, the other
 * two are derived from it by the type differences between them. Written here, not copied: the columns are checked
 * against Vaultwarden's migrations at commit 46d71107 by vaultwarden-schema.unit.spec.ts, and the import spec runs
 * on Vaultwarden's own migrations when VAULTWARDEN_SRC names a checkout. Tables the importer never reads (devices,
 * auth_requests, invitations, sso_*, twofactor_incomplete, twofactor_duo_ctx) are left out, and so are details it
 * does not depend on (SQLite's INTEGER for attachments.file_size and twofactor.last_used, BIGINT on the other two;
 * no primary key on groups_users and collections_groups there).
 */
export const SQLITE_SCHEMA = `
CREATE TABLE users (
  uuid TEXT NOT NULL PRIMARY KEY, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  password_hash BLOB NOT NULL, salt BLOB NOT NULL, password_iterations INTEGER NOT NULL, password_hint TEXT,
  akey TEXT NOT NULL, private_key TEXT, public_key TEXT, totp_secret TEXT, totp_recover TEXT,
  security_stamp TEXT NOT NULL, equivalent_domains TEXT NOT NULL, excluded_globals TEXT NOT NULL,
  client_kdf_type INTEGER NOT NULL DEFAULT 0, client_kdf_iter INTEGER NOT NULL DEFAULT 100000,
  verified_at DATETIME, last_verifying_at DATETIME, login_verify_count INTEGER NOT NULL DEFAULT 0,
  email_new TEXT, email_new_token TEXT, enabled BOOLEAN NOT NULL DEFAULT 1, stamp_exception TEXT,
  api_key TEXT, avatar_color TEXT, client_kdf_memory INTEGER, client_kdf_parallelism INTEGER, external_id TEXT);
CREATE TABLE twofactor (
  uuid TEXT NOT NULL PRIMARY KEY, user_uuid TEXT NOT NULL REFERENCES users (uuid), atype INTEGER NOT NULL,
  enabled BOOLEAN NOT NULL, data TEXT NOT NULL, last_used BIGINT NOT NULL DEFAULT 0, UNIQUE (user_uuid, atype));
CREATE TABLE folders (
  uuid TEXT NOT NULL PRIMARY KEY, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  user_uuid TEXT NOT NULL REFERENCES users (uuid), name TEXT NOT NULL);
CREATE TABLE organizations (
  uuid TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL, billing_email TEXT NOT NULL, private_key TEXT, public_key TEXT);
CREATE TABLE organization_api_key (
  uuid TEXT NOT NULL, org_uuid TEXT NOT NULL REFERENCES organizations (uuid), atype INTEGER NOT NULL,
  api_key TEXT NOT NULL, revision_date DATETIME NOT NULL, PRIMARY KEY (uuid, org_uuid));
CREATE TABLE collections (
  uuid TEXT NOT NULL PRIMARY KEY, org_uuid TEXT NOT NULL REFERENCES organizations (uuid), name TEXT NOT NULL, external_id TEXT);
CREATE TABLE users_organizations (
  uuid TEXT NOT NULL PRIMARY KEY, user_uuid TEXT NOT NULL REFERENCES users (uuid),
  org_uuid TEXT NOT NULL REFERENCES organizations (uuid), access_all BOOLEAN NOT NULL,
  akey TEXT NOT NULL, status INTEGER NOT NULL, atype INTEGER NOT NULL, reset_password_key TEXT, external_id TEXT,
  invited_by_email TEXT, UNIQUE (user_uuid, org_uuid));
CREATE TABLE users_collections (
  user_uuid TEXT NOT NULL REFERENCES users (uuid), collection_uuid TEXT NOT NULL REFERENCES collections (uuid),
  read_only BOOLEAN NOT NULL DEFAULT 0, hide_passwords BOOLEAN NOT NULL DEFAULT 0, manage BOOLEAN NOT NULL DEFAULT 0,
  PRIMARY KEY (user_uuid, collection_uuid));
CREATE TABLE groups (
  uuid TEXT NOT NULL PRIMARY KEY, organizations_uuid TEXT NOT NULL REFERENCES organizations (uuid), name TEXT NOT NULL,
  access_all BOOLEAN NOT NULL, external_id TEXT, creation_date DATETIME NOT NULL, revision_date DATETIME NOT NULL);
CREATE TABLE groups_users (
  groups_uuid TEXT NOT NULL REFERENCES groups (uuid), users_organizations_uuid TEXT NOT NULL REFERENCES users_organizations (uuid),
  PRIMARY KEY (groups_uuid, users_organizations_uuid));
CREATE TABLE collections_groups (
  collections_uuid TEXT NOT NULL REFERENCES collections (uuid), groups_uuid TEXT NOT NULL REFERENCES groups (uuid),
  read_only BOOLEAN NOT NULL, hide_passwords BOOLEAN NOT NULL, manage BOOLEAN NOT NULL DEFAULT 0,
  PRIMARY KEY (collections_uuid, groups_uuid));
CREATE TABLE org_policies (
  uuid TEXT NOT NULL PRIMARY KEY, org_uuid TEXT NOT NULL REFERENCES organizations (uuid), atype INTEGER NOT NULL,
  enabled BOOLEAN NOT NULL, data TEXT NOT NULL, UNIQUE (org_uuid, atype));
CREATE TABLE ciphers (
  uuid TEXT NOT NULL PRIMARY KEY, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  user_uuid TEXT REFERENCES users (uuid), organization_uuid TEXT REFERENCES organizations (uuid),
  atype INTEGER NOT NULL, name TEXT NOT NULL, notes TEXT, fields TEXT, data TEXT NOT NULL, password_history TEXT,
  deleted_at DATETIME, reprompt INTEGER, key TEXT);
CREATE TABLE folders_ciphers (
  cipher_uuid TEXT NOT NULL REFERENCES ciphers (uuid), folder_uuid TEXT NOT NULL REFERENCES folders (uuid),
  PRIMARY KEY (cipher_uuid, folder_uuid));
CREATE TABLE favorites (
  user_uuid TEXT NOT NULL REFERENCES users (uuid), cipher_uuid TEXT NOT NULL REFERENCES ciphers (uuid),
  PRIMARY KEY (user_uuid, cipher_uuid));
CREATE TABLE ciphers_collections (
  cipher_uuid TEXT NOT NULL REFERENCES ciphers (uuid), collection_uuid TEXT NOT NULL REFERENCES collections (uuid),
  PRIMARY KEY (cipher_uuid, collection_uuid));
CREATE TABLE attachments (
  id TEXT NOT NULL PRIMARY KEY, cipher_uuid TEXT NOT NULL REFERENCES ciphers (uuid), file_name TEXT NOT NULL,
  file_size BIGINT NOT NULL, akey TEXT);
CREATE TABLE emergency_access (
  uuid TEXT NOT NULL PRIMARY KEY, grantor_uuid TEXT REFERENCES users (uuid), grantee_uuid TEXT REFERENCES users (uuid),
  email TEXT, key_encrypted TEXT, atype INTEGER NOT NULL, status INTEGER NOT NULL, wait_time_days INTEGER NOT NULL,
  recovery_initiated_at DATETIME, last_notification_at DATETIME, updated_at DATETIME NOT NULL, created_at DATETIME NOT NULL);
CREATE TABLE sends (
  uuid TEXT NOT NULL PRIMARY KEY, user_uuid TEXT REFERENCES users (uuid), organization_uuid TEXT REFERENCES organizations (uuid),
  name TEXT NOT NULL, notes TEXT, atype INTEGER NOT NULL, data TEXT NOT NULL, akey TEXT NOT NULL,
  password_hash BLOB, password_salt BLOB, password_iter INTEGER, max_access_count INTEGER, access_count INTEGER NOT NULL,
  creation_date DATETIME NOT NULL, revision_date DATETIME NOT NULL, expiration_date DATETIME, deletion_date DATETIME NOT NULL,
  disabled BOOLEAN NOT NULL, hide_email BOOLEAN);
CREATE TABLE event (
  uuid TEXT NOT NULL PRIMARY KEY, event_type INTEGER NOT NULL, user_uuid TEXT, org_uuid TEXT, cipher_uuid TEXT,
  collection_uuid TEXT, group_uuid TEXT, org_user_uuid TEXT, act_user_uuid TEXT, device_type INTEGER, ip_address TEXT,
  event_date DATETIME NOT NULL, policy_uuid TEXT, provider_uuid TEXT, provider_user_uuid TEXT, provider_org_uuid TEXT);
CREATE TABLE archives (
  user_uuid TEXT NOT NULL REFERENCES users (uuid), cipher_uuid TEXT NOT NULL REFERENCES ciphers (uuid),
  archived_at DATETIME NOT NULL, PRIMARY KEY (user_uuid, cipher_uuid));
`;

/** PostgreSQL's migrations: boolean, bytea, timestamp. */
export function postgresSchema(): string {
  return SQLITE_SCHEMA.replace(/BOOLEAN NOT NULL DEFAULT 1/g, 'boolean NOT NULL DEFAULT true')
    .replace(/BOOLEAN NOT NULL DEFAULT 0/g, 'boolean NOT NULL DEFAULT false')
    .replace(/\bBOOLEAN\b/g, 'boolean')
    .replace(/\bBLOB\b/g, 'bytea')
    .replace(/\bDATETIME\b/g, 'timestamp');
}

/**
 * MySQL/MariaDB's migrations: ids are CHAR(36) and the unique email VARCHAR(255) (a TEXT column cannot be a key
 * there), BOOLEAN is TINYINT(1), BLOB stays BLOB and DATETIME keeps whole seconds; `key` is a reserved word and
 * quoted, as Vaultwarden's migrations quote it, and so is `groups` (reserved in MySQL 8).
 */
export function mysqlSchema(): string {
  return SQLITE_SCHEMA.replace(/\b(\w*uuid|id) TEXT\b/g, '$1 CHAR(36)')
    .replace(/email TEXT NOT NULL UNIQUE/, 'email VARCHAR(255) NOT NULL UNIQUE')
    .replace(/\bkey TEXT\b/, '`key` TEXT')
    .replace(/TABLE groups \(/, 'TABLE `groups` (')
    .replace(/REFERENCES groups \(/g, 'REFERENCES `groups` (')
    .replace(/\);\n/g, ') DEFAULT CHARSET = utf8mb4;\n');
}
