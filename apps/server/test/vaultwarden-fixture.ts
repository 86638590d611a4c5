import { pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  createAccount,
  createSendKey,
  hashSendPassword,
  encryptCipher,
  encryptType2,
  prepareAttachment,
  unwrapSymmetricKey,
  type Account,
  type PlainCipher,
  type SymmetricKey,
} from '@keyhaven/vault-crypto';
import type { SoftwareAuthenticator } from './software-authenticator';
import { addVaultwardenExtras } from './vaultwarden-fixture-extras';
import { addVaultwardenOrganization } from './vaultwarden-fixture-org';
import { vaultwardenSchemaScripts } from './vaultwarden-migrations';

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
  /** Alice's item she archived in Vaultwarden (one of aliceItems). */
  readonly archivedItemName: string;
  /** Alice's WebAuthn two-step key (relying party `localhost`) and her email two-step address. */
  readonly aliceWebAuthn: SoftwareAuthenticator;
  readonly aliceTwoStepEmail: string;
}

/** Vaultwarden's naive UTC timestamp text. */
const stamp = (d: Date): string => d.toISOString().replace('T', ' ').replace('Z', '').padEnd(26, '0');

/**
 * A Vaultwarden instance as its SQLite file and data folder would hold it after people used it with the
 * official clients: the tables the importer reads, with Vaultwarden's column names and types (src/db/schema.rs,
 * SQLite flavour of its migrations; Vaultwarden's own migrations when VAULTWARDEN_SRC names a checkout), filled with what the clients sent — encrypted with real keys made here —
 * and what Vaultwarden itself adds (PBKDF2-SHA256 of the client's master password hash with a 64-byte salt at
 * 600,000 iterations, naive UTC timestamps, JSON text columns, 0/1 booleans, attachments under
 * `attachments/<cipher>/<id>`).
 */
export async function buildVaultwardenFixture(dir: string, tag: string): Promise<VaultwardenFixture> {
  const dataDir = join(dir, 'vw-data');
  mkdirSync(dataDir, { recursive: true });
  const sqlite = join(dataDir, 'db.sqlite3');
  const db = new Database(sqlite);
  // As Vaultwarden migrates: foreign keys off (its migrations rebuild tables), on again for the data.
  db.pragma('foreign_keys = OFF');
  for (const script of vaultwardenSchemaScripts('sqlite')) db.exec(script.sql);
  db.pragma('foreign_keys = ON');
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
  const archivedId = cipher(
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

  const { orgId, orgKey, sharedId, sharedItemName } = await addVaultwardenOrganization(
    insert,
    cipher,
    { alice, bob, carolId },
    now,
  );
  const later = stamp(new Date(Date.now() + 7 * 86_400_000));
  const extras = addVaultwardenExtras(insert, { alice, bob }, { orgId, orgKey, sharedId, archivedId }, { now, later });
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
    deletion_date: later,
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
    archivedItemName: 'Recovery codes',
    ...extras,
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
