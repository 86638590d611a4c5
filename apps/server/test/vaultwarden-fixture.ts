import { pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import {
  createAccount,
  createSendKey,
  hashSendPassword,
  createOrganizationKeys,
  encryptCipher,
  encryptType2,
  prepareAttachment,
  unwrapSymmetricKey,
  wrapOrgKeyForMember,
  type Account,
  type PlainCipher,
  type SymmetricKey,
} from '@keyhaven/vault-crypto';

/**
 * A Vaultwarden instance as its SQLite file and data folder would hold it after people used it with the
 * official clients: the tables the importer reads, with Vaultwarden's column names and types (src/db/schema.rs,
 * SQLite flavour of its migrations), filled with what the clients sent — encrypted with real keys made here —
 * and what Vaultwarden itself adds (PBKDF2-SHA256 of the client's master password hash with a 64-byte salt at
 * 600,000 iterations, naive UTC timestamps, JSON text columns, 0/1 booleans, attachments under
 * `attachments/<cipher>/<id>`).
 */
const SCHEMA = `
CREATE TABLE users (
  uuid TEXT NOT NULL PRIMARY KEY, enabled BOOLEAN NOT NULL DEFAULT 1, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  verified_at DATETIME, last_verifying_at DATETIME, login_verify_count INTEGER NOT NULL DEFAULT 0,
  email TEXT NOT NULL UNIQUE, email_new TEXT, email_new_token TEXT, name TEXT NOT NULL,
  password_hash BLOB NOT NULL, salt BLOB NOT NULL, password_iterations INTEGER NOT NULL, password_hint TEXT,
  akey TEXT NOT NULL, private_key TEXT, public_key TEXT, totp_secret TEXT, totp_recover TEXT,
  security_stamp TEXT NOT NULL, stamp_exception TEXT, equivalent_domains TEXT NOT NULL, excluded_globals TEXT NOT NULL,
  client_kdf_type INTEGER NOT NULL DEFAULT 0, client_kdf_iter INTEGER NOT NULL DEFAULT 100000,
  client_kdf_memory INTEGER, client_kdf_parallelism INTEGER, api_key TEXT, avatar_color TEXT, external_id TEXT);
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
  org_uuid TEXT NOT NULL REFERENCES organizations (uuid), invited_by_email TEXT, access_all BOOLEAN NOT NULL,
  akey TEXT NOT NULL, status INTEGER NOT NULL, atype INTEGER NOT NULL, reset_password_key TEXT, external_id TEXT,
  UNIQUE (user_uuid, org_uuid));
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
  user_uuid TEXT REFERENCES users (uuid), organization_uuid TEXT REFERENCES organizations (uuid), key TEXT,
  atype INTEGER NOT NULL, name TEXT NOT NULL, notes TEXT, fields TEXT, data TEXT NOT NULL, password_history TEXT,
  deleted_at DATETIME, reprompt INTEGER);
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
`;

export const VW_PASSWORD_ITERATIONS = 600_000;

export interface VaultwardenPerson {
  readonly id: string;
  readonly email: string;
  readonly password: string;
  readonly account: Account;
}

export interface VaultwardenFixture {
  readonly sqlite: string;
  readonly dataDir: string;
  readonly alice: VaultwardenPerson;
  readonly bob: VaultwardenPerson;
  /** Alice's authenticator secret (base32), enabled in Vaultwarden. */
  readonly aliceTotp: string;
  readonly orgId: string;
  /** The plaintext of every item each person sees, by name. */
  readonly aliceItems: Record<string, { username?: string; password?: string; notes?: string; folder?: string }>;
  readonly sharedItemName: string;
  readonly attachment: { itemName: string; fileName: string; bytes: Buffer };
}

/** Vaultwarden's naive UTC timestamp text. */
const stamp = (d: Date): string => d.toISOString().replace('T', ' ').replace('Z', '').padEnd(26, '0');

export async function buildVaultwardenFixture(dir: string, tag: string): Promise<VaultwardenFixture> {
  const dataDir = join(dir, 'vw-data');
  mkdirSync(dataDir, { recursive: true });
  const sqlite = join(dataDir, 'db.sqlite3');
  const db = new Database(sqlite);
  db.exec(SCHEMA);
  const created = stamp(new Date(Date.now() - 86_400_000));
  const now = stamp(new Date());

  const insert = (table: string, row: Record<string, unknown>): void => {
    const cols = Object.keys(row);
    db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(
      ...cols.map((c) => {
        const v = row[c];
        return typeof v === 'boolean' ? (v ? 1 : 0) : v;
      }),
    );
  };

  async function person(name: string, password: string): Promise<VaultwardenPerson> {
    const email = `${name}-${tag}@example.com`;
    const account = await createAccount({ email, password });
    const id = randomUUID();
    const salt = randomBytes(64);
    insert('users', {
      uuid: id,
      enabled: true,
      created_at: created,
      updated_at: now,
      verified_at: created,
      email,
      name,
      // Vaultwarden: crypto::hash_password(client hash bytes, salt, password_iterations), PBKDF2-HMAC-SHA256, 32 bytes.
      password_hash: pbkdf2Sync(account.masterPasswordHash, salt, VW_PASSWORD_ITERATIONS, 32, 'sha256'),
      salt,
      password_iterations: VW_PASSWORD_ITERATIONS,
      password_hint: null,
      akey: account.key,
      private_key: account.encryptedPrivateKey,
      public_key: account.publicKey,
      security_stamp: randomUUID(),
      equivalent_domains: '[]',
      excluded_globals: '[]',
      client_kdf_type: account.kdf,
      client_kdf_iter: account.kdfIterations,
      client_kdf_memory: account.kdfMemory,
      client_kdf_parallelism: account.kdfParallelism,
      api_key: null,
    });
    return { id, email, password, account };
  }

  const alice = await person('alice', 'alice master password of some length');
  const bob = await person('bob', 'bob master password of some length');
  // Invited to the organization, never registered: Vaultwarden keeps a user row without a password.
  const carolId = randomUUID();
  insert('users', {
    uuid: carolId,
    created_at: now,
    updated_at: now,
    email: `carol-${tag}@example.com`,
    name: 'carol',
    password_hash: Buffer.alloc(0),
    salt: randomBytes(64),
    password_iterations: VW_PASSWORD_ITERATIONS,
    akey: '',
    security_stamp: randomUUID(),
    equivalent_domains: '[]',
    excluded_globals: '[]',
  });
  const aliceTotp = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
  insert('twofactor', {
    uuid: randomUUID(),
    user_uuid: alice.id,
    atype: 0,
    enabled: true,
    data: aliceTotp,
    last_used: 0,
  });

  /** A cipher stored as Vaultwarden stores a client's request: top-level columns and the type's object as JSON text. */
  function cipher(
    key: SymmetricKey,
    plain: PlainCipher,
    owner: { user?: string; org?: string },
    options: { itemKey?: boolean; pascalCase?: boolean } = {},
  ): string {
    const request = encryptCipher(key, plain, { itemKey: options.itemKey === true });
    const uuid = randomUUID();
    const typeKey = { 1: 'login', 2: 'secureNote', 3: 'card', 4: 'identity', 5: 'sshKey' }[plain.type];
    let typeData: unknown = (request as unknown as Record<string, unknown>)[typeKey] ?? {};
    // Vaultwarden before 1.27 stored the clients' PascalCase JSON; its reader still accepts it.
    if (options.pascalCase) typeData = pascal(typeData);
    insert('ciphers', {
      uuid,
      created_at: created,
      updated_at: now,
      user_uuid: owner.org ? null : owner.user,
      organization_uuid: owner.org ?? null,
      key: request.key,
      atype: plain.type,
      name: request.name,
      notes: request.notes,
      fields: request.fields ? JSON.stringify(request.fields) : null,
      data: JSON.stringify(typeData),
      password_history: null,
      reprompt: 0,
    });
    return uuid;
  }

  const folderId = randomUUID();
  insert('folders', {
    uuid: folderId,
    created_at: created,
    updated_at: now,
    user_uuid: alice.id,
    name: encryptType2(alice.account.userKey, 'Infrastructure ✓'),
  });
  const aliceItems: VaultwardenFixture['aliceItems'] = {
    'Database "prod"': {
      username: 'dba',
      password: 'p@ss,word;1',
      notes: 'line one\nline two — ünïcödé',
      folder: 'Infrastructure ✓',
    },
    'Old router': { username: 'admin', password: 'legacy-pw' },
    'Recovery codes': { notes: 'A1B2-C3D4\nE5F6-G7H8' },
  };
  const loginId = cipher(
    alice.account.userKey,
    {
      type: 1,
      name: 'Database "prod"',
      notes: 'line one\nline two — ünïcödé',
      login: {
        username: 'dba',
        password: 'p@ss,word;1',
        totp: null,
        uris: [{ uri: 'https://db.example.com', match: null }],
      },
      fields: [{ type: 1, name: 'pin', value: '4321', linkedId: null }],
    },
    { user: alice.id },
    { itemKey: true },
  );
  insert('folders_ciphers', { cipher_uuid: loginId, folder_uuid: folderId });
  insert('favorites', { user_uuid: alice.id, cipher_uuid: loginId });
  cipher(
    alice.account.userKey,
    {
      type: 1,
      name: 'Old router',
      login: { username: 'admin', password: 'legacy-pw', uris: [{ uri: 'http://192.168.1.1' }] },
    },
    { user: alice.id },
    { pascalCase: true },
  );
  cipher(
    alice.account.userKey,
    { type: 2, name: 'Recovery codes', notes: 'A1B2-C3D4\nE5F6-G7H8', secureNote: { type: 0 } },
    { user: alice.id },
  );

  // The attachment: a file key under the item key, the encrypted body in the data folder.
  const [loginRow] = db.prepare('SELECT key FROM ciphers WHERE uuid = ?').all(loginId) as { key: string }[];
  const itemKey = unwrapSymmetricKey(alice.account.userKey, loginRow?.key ?? '');
  const bytes = Buffer.concat([Buffer.from('runbook ✓\n'), randomBytes(50_000)]);
  const prepared = prepareAttachment(itemKey, 'runbook.bin', bytes);
  const attachmentId = randomBytes(10).toString('hex');
  insert('attachments', {
    id: attachmentId,
    cipher_uuid: loginId,
    file_name: prepared.request.fileName,
    file_size: prepared.encryptedData.length,
    akey: prepared.request.key,
  });
  mkdirSync(join(dataDir, 'attachments', loginId), { recursive: true });
  writeFileSync(join(dataDir, 'attachments', loginId, attachmentId), prepared.encryptedData);

  // An organization: Alice owns it, Bob is a confirmed user of its one collection (through a group too).
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
  // The event log as Vaultwarden writes it (Bitwarden's numbers): Alice logged in, then created the shared item.
  insert('event', {
    uuid: randomUUID(),
    event_type: 1000,
    user_uuid: alice.id,
    act_user_uuid: alice.id,
    device_type: 9,
    ip_address: '192.0.2.10',
    event_date: created,
  });
  insert('event', {
    uuid: randomUUID(),
    event_type: 1100,
    org_uuid: orgId,
    cipher_uuid: sharedId,
    act_user_uuid: alice.id,
    device_type: 9,
    ip_address: '192.0.2.10',
    event_date: now,
  });
  // A text Send with a password: Vaultwarden keeps PBKDF2-SHA256 (100,000 iterations) of the client's password hash.
  const send = createSendKey(alice.account.userKey);
  const sendSalt = randomBytes(64);
  insert('sends', {
    uuid: randomUUID(),
    user_uuid: alice.id,
    name: encryptType2(send.sendKey, 'Guest Wi-Fi'),
    atype: 0,
    data: JSON.stringify({ text: encryptType2(send.sendKey, 'guest wifi password'), hidden: false }),
    akey: send.key,
    password_hash: pbkdf2Sync(hashSendPassword('send secret', send.seed), sendSalt, 100_000, 32, 'sha256'),
    password_salt: sendSalt,
    password_iter: 100_000,
    access_count: 0,
    creation_date: created,
    revision_date: now,
    deletion_date: stamp(new Date(Date.now() + 7 * 86_400_000)),
    disabled: false,
    hide_email: false,
  });
  db.close();
  return {
    sqlite,
    dataDir,
    alice,
    bob,
    aliceTotp,
    orgId,
    aliceItems,
    sharedItemName,
    attachment: { itemName: 'Database "prod"', fileName: 'runbook.bin', bytes },
  };
}

function pascal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pascal);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k.charAt(0).toUpperCase() + k.slice(1),
      pascal(v),
    ]),
  );
}

/**
 * The same Vaultwarden database on PostgreSQL, as Vaultwarden's PostgreSQL migrations type it (bytea, timestamp,
 * boolean): the SQLite schema translated, then every row copied.
 */
export async function copyVaultwardenToPostgres(sqlite: string, url: string): Promise<void> {
  const ddl = SCHEMA.replace(/BOOLEAN NOT NULL DEFAULT 1/g, 'boolean NOT NULL DEFAULT true')
    .replace(/BOOLEAN NOT NULL DEFAULT 0/g, 'boolean NOT NULL DEFAULT false')
    .replace(/\bBOOLEAN\b/g, 'boolean')
    .replace(/\bBLOB\b/g, 'bytea')
    .replace(/\bDATETIME\b/g, 'timestamp');
  const source = new Database(sqlite, { readonly: true });
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(ddl);
    const tables = source.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid`).all() as {
      name: string;
    }[];
    for (const { name } of tables) {
      for (const row of source.prepare(`SELECT * FROM ${name}`).all() as Record<string, unknown>[]) {
        const cols = Object.keys(row);
        await client.query(
          `INSERT INTO ${name} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
          cols.map((c) => row[c]),
        );
      }
    }
  } finally {
    source.close();
    await client.end();
  }
}
