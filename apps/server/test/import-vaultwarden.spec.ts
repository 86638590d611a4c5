import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStoreSession } from '@keyhaven/runtime';
import {
  BwCli,
  createScratchDatabase,
  requireServices,
  skipUnlessService,
  startServer,
  type ServerProcess,
} from '@keyhaven/testing';
import { totpCode } from '@keyhaven/vault-crypto';
import { describeOnBackends } from './backends';
import { keyhaven } from './data-safety-fixtures';
import { copyVaultwardenToMysql, copyVaultwardenToPostgres, createScratchMysqlDatabase } from './vaultwarden-copy';
import { buildVaultwardenFixture, type VaultwardenFixture, type VaultwardenPerson } from './vaultwarden-fixture';

/**
 * `keyhaven import-vaultwarden` from a Vaultwarden database and data folder built by the test as Vaultwarden
 * stores what the clients send: a dry run writes nothing, the import is idempotent, and then the real bw CLI logs
 * in to Keyhaven with each person's old master password (Alice also with her authenticator code), decrypts every
 * item, folder and the attachment, and the organization member decrypts the shared item; Alice's WebAuthn key from
 * Vaultwarden signs her in and her archived item stays archived. On PGlite the source is
 * the SQLite file; on PostgreSQL it is the same database copied into MySQL/MariaDB (SQLite there when MySQL is
 * not reachable locally; CI always has it), and the PostgreSQL and MySQL copies must plan what the file plans.
 * The databases' schema is the hand-written one, or Vaultwarden's own migrations when VAULTWARDEN_SRC names a
 * Vaultwarden checkout (see README.md).
 */
interface Summary {
  dryRun: boolean;
  entities: Record<string, { read: number; created: number; existing: number; skipped: number }>;
  skipped: { what: string; reason: string }[];
  notMigrated: string[];
}

interface BwItem {
  id: string;
  name: string;
  notes: string | null;
  folderId: string | null;
  favorite: boolean;
  organizationId: string | null;
  login?: { username: string | null; password: string | null; uris?: { uri: string }[] | null };
  fields?: { name: string; value: string }[] | null;
  attachments?: { id: string; fileName: string }[];
}

const created = (s: Summary): Record<string, number> =>
  Object.fromEntries(Object.entries(s.entities).map(([k, v]) => [k, v.created]));

describeOnBackends('keyhaven import-vaultwarden', (backend) => {
  const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-vw-'));
  const dataDir = join(scratch, 'keyhaven-data');
  const tag = randomBytes(3).toString('hex');
  let fixture: VaultwardenFixture;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let server: ServerProcess | undefined;
  let env: Record<string, string>;
  let mysql: { url: string; drop(): Promise<void> } | undefined;
  let sourceArgs: string[];
  const run = (...extra: string[]) =>
    keyhaven(['import-vaultwarden', ...sourceArgs, '--data-dir', fixture.dataDir, '--json', ...extra], env);
  /** The dry-run plan from a source, into an empty Keyhaven. */
  const plan = async (source: string[]): Promise<Summary['entities']> => {
    const dry = await keyhaven(
      ['import-vaultwarden', ...source, '--data-dir', fixture.dataDir, '--dry-run', '--json'],
      {
        ...env,
        DATA_DIR: join(scratch, `empty-${randomBytes(3).toString('hex')}`),
      },
    );
    assert.equal(dry.code, 0, dry.stderr);
    return (JSON.parse(dry.stdout) as Summary).entities;
  };

  before(async () => {
    fixture = await buildVaultwardenFixture(scratch, tag);
    database = backend === 'postgres' ? await createScratchDatabase() : undefined;
    env = { DATA_DIR: dataDir, ...(database ? { DATABASE_URL: database.url } : {}) };
    sourceArgs = ['--sqlite', fixture.sqlite];
    if (backend === 'postgres' && (await skipUnlessService('mysql')) === false) {
      mysql = await createScratchMysqlDatabase();
      await copyVaultwardenToMysql(fixture.sqlite, mysql.url);
      sourceArgs = ['--database-url', mysql.url];
    }
  });

  after(async () => {
    await server?.stop();
    await database?.drop();
    await mysql?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('a dry run reports what it would import and writes nothing', async () => {
    for (let i = 0; i < 2; i++) {
      const dry = await run('--dry-run');
      assert.equal(dry.code, 0, dry.stderr);
      const summary = JSON.parse(dry.stdout) as Summary;
      assert.equal(summary.dryRun, true);
      assert.deepEqual(
        [
          summary.entities['users']?.created,
          summary.entities['items']?.created,
          summary.entities['attachments']?.created,
        ],
        [2, 4, 1],
        `run ${i + 1}: the same plan, since the first wrote nothing`,
      );
    }
  });

  if (backend === 'postgres') {
    test("Vaultwarden's PostgreSQL database reads the same as its SQLite file", async () => {
      const vw = await createScratchDatabase();
      try {
        await copyVaultwardenToPostgres(fixture.sqlite, vw.url);
        const fromPostgres = await plan(['--database-url', vw.url]);
        assert.equal(fromPostgres['items']?.created, 4);
        assert.deepEqual(fromPostgres, await plan(['--sqlite', fixture.sqlite]));
      } finally {
        await vw.drop();
      }
    });

    test("Vaultwarden's MySQL/MariaDB database reads the same as its SQLite file", async (t) => {
      if (!(await requireServices(t, 'mysql'))) return;
      assert.ok(mysql, 'the MySQL copy was made');
      const fromMysql = await plan(['--database-url', mysql.url]);
      assert.equal(fromMysql['items']?.created, 4);
      assert.deepEqual(fromMysql, await plan(['--sqlite', fixture.sqlite]));
      // mariadb:// names the same server (MariaDB users write it; Vaultwarden's own URL says mysql://).
      assert.deepEqual(await plan(['--database-url', mysql.url.replace(/^mysql:/, 'mariadb:')]), fromMysql);
    });
  }

  test('the import carries everything over once; a second run adds nothing', async () => {
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    const summary = JSON.parse(first.stdout) as Summary;
    // What Keyhaven cannot hold is skipped, each once, with its reason.
    const reasons = summary.skipped.map((x) => x.reason);
    assert.equal(reasons.length, 4, first.stdout);
    for (const reason of [
      /^an unfinished two-step setup or login challenge/,
      /^YubiKey OTP two-step login: Keyhaven does not call YubiCloud/,
      /^an organization item archived by one member/,
      /^an organization Send/,
    ]) {
      assert.equal(reasons.filter((r) => reason.test(r)).length, 1, `${String(reason)} in ${first.stdout}`);
    }
    assert.match(summary.skipped.find((x) => /YubiKey/.test(x.reason))?.what ?? '', /^bob-/);
    assert.deepEqual(summary.notMigrated, []);
    assert.deepEqual(created(summary), {
      users: 2,
      // Alice's email and WebAuthn two-step login (her authenticator is in her account row).
      'two-step logins': 2,
      'WebAuthn keys': 1,
      folders: 1,
      organizations: 1,
      collections: 1,
      memberships: 3,
      // Bob's assignment, and Alice's from "access all collections".
      'collection assignments': 2,
      groups: 1,
      'group members': 1,
      'group collections': 1,
      policies: 1,
      items: 4,
      'archived items': 1,
      'folders and favourites': 1,
      'item collections': 1,
      attachments: 1,
      'emergency access': 0,
      sends: 1,
      events: 2,
    });
    const second = await run();
    assert.equal(second.code, 0, second.stderr);
    const again = JSON.parse(second.stdout) as Summary;
    assert.ok(
      Object.values(again.entities).every((e) => e.created === 0 && e.existing === e.read),
      `nothing new the second time: ${second.stdout}`,
    );
  });

  test('bw logs in with the old master passwords (and TOTP; WebAuthn too), decrypts every item, folder and the attachment', async () => {
    server = await startServer({ dataDir, env: database ? { DATABASE_URL: database.url } : {} });
    const login = async (p: VaultwardenPerson, code?: string): Promise<BwCli> => {
      const bw = new BwCli(server?.caPath);
      await bw.ok(['config', 'server', server?.url ?? '']);
      const args = ['login', p.email, p.password, ...(code ? ['--method', '0', '--code', code] : []), '--raw'];
      bw.session = (await bw.ok(args)).trim();
      return bw;
    };

    // Alice's second step from Vaultwarden is asked for: the authenticator, email and her WebAuthn key, which
    // then signs her in with the credential Vaultwarden registered.
    const grant = (extra: Record<string, string> = {}) =>
      server?.http.post<Record<string, unknown>>('/identity/connect/token', {
        form: {
          grant_type: 'password',
          scope: 'api offline_access',
          client_id: 'cli',
          deviceType: '25',
          deviceIdentifier: '0b5c3a52-8f7e-4c1a-9d3e-2f6b7a8c9d01',
          deviceName: 'linux',
          username: fixture.alice.email,
          password: fixture.alice.account.masterPasswordHash,
          ...extra,
        },
      });
    const challenge = await grant();
    assert.equal(challenge?.status, 400, 'the second step from Vaultwarden is still required');
    assert.deepEqual(challenge.body['TwoFactorProviders'], ['0', '1', '7']);
    const offered = challenge.body['TwoFactorProviders2'] as Record<string, Record<string, unknown>>;
    assert.equal(offered['1']?.['Email'], `al***@${fixture.aliceTwoStepEmail.split('@')[1] ?? ''}`);
    const webAuthn = offered['7'] as { challenge: string; allowCredentials: { id: string }[] };
    assert.deepEqual(
      webAuthn.allowCredentials.map((c) => c.id),
      [fixture.aliceWebAuthn.credentialId.toString('base64url')],
    );
    const signed = await grant({
      twoFactorProvider: '7',
      twoFactorToken: fixture.aliceWebAuthn.assert(webAuthn.challenge, { origin: server.url }),
    });
    assert.equal(signed?.status, 200, `the WebAuthn key from Vaultwarden signs in: ${signed?.text ?? ''}`);

    const alice = await login(fixture.alice, totpCode(fixture.aliceTotp));
    try {
      const items = await alice.json<BwItem[]>(['list', 'items']);
      const archived = await alice.json<BwItem[]>(['list', 'items', '--archived']);
      const folders = new Map(
        (await alice.json<{ id: string; name: string }[]>(['list', 'folders'])).map((f) => [f.id, f.name]),
      );
      assert.deepEqual(
        items.map((i) => i.name).sort(),
        [...Object.keys(fixture.aliceItems), fixture.sharedItemName]
          .filter((n) => n !== fixture.archivedItemName)
          .sort(),
      );
      assert.deepEqual(
        archived.map((i) => i.name),
        [fixture.archivedItemName],
        'the item Alice archived in Vaultwarden is archived',
      );
      for (const [name, expected] of Object.entries(fixture.aliceItems)) {
        const item = [...items, ...archived].find((i) => i.name === name);
        assert.ok(item, name);
        if (expected.username !== undefined) assert.equal(item.login?.username, expected.username, name);
        if (expected.password !== undefined) assert.equal(item.login?.password, expected.password, name);
        if (expected.notes !== undefined) assert.equal(item.notes, expected.notes, name);
        assert.equal(item.folderId ? folders.get(item.folderId) : undefined, expected.folder, `folder of ${name}`);
      }
      const withFile = items.find((i) => i.name === fixture.attachment.itemName);
      assert.ok(withFile);
      assert.equal(withFile.favorite, true, 'the favourite is kept');
      assert.deepEqual(
        withFile.fields?.map((f) => [f.name, f.value]),
        [['pin', '4321']],
      );
      assert.equal(items.find((i) => i.name === 'Old router')?.login?.uris?.[0]?.uri, 'http://192.168.1.1');
      const file = withFile.attachments?.[0];
      assert.ok(file);
      assert.equal(file.fileName, fixture.attachment.fileName);
      const sends = await alice.json<{ name: string; text: { text: string } | null; passwordSet: boolean }[]>([
        'send',
        'list',
      ]);
      assert.deepEqual(
        sends.map((x) => [x.name, x.text?.text, x.passwordSet]),
        [['Guest Wi-Fi', 'guest wifi password', true]],
        'the Send moved with its password',
      );
      const out = join(scratch, 'download.bin');
      await alice.ok(['get', 'attachment', file.id, '--itemid', withFile.id, '--output', out]);
      assert.ok(readFileSync(out).equals(fixture.attachment.bytes), 'the attachment downloads byte for byte');
    } finally {
      alice.cleanup();
    }

    const bob = await login(fixture.bob);
    try {
      const items = await bob.json<BwItem[]>(['list', 'items']);
      assert.deepEqual(
        items.map((i) => [i.name, i.login?.username, i.login?.password, i.organizationId]),
        [[fixture.sharedItemName, 'vpn', 'shared-secret', fixture.orgId]],
        'the member decrypts the shared item with the organization key from Vaultwarden (not archived for anyone)',
      );
      const collections = await bob.json<{ name: string }[]>(['list', 'collections']);
      assert.deepEqual(
        collections.map((c) => c.name),
        ['Engineering'],
      );
    } finally {
      bob.cleanup();
    }
    await server.stop();
    server = undefined;

    // The first login replaced Vaultwarden's PBKDF2 hash with Keyhaven's own.
    const store = await openStoreSession({ dataDir, databaseUrl: database?.url });
    try {
      const hashes = await store.query<{ email: string; hash: string }>(
        `SELECT email, left(master_password_hash, 10) AS hash FROM app_user ORDER BY email`,
      );
      assert.deepEqual(
        hashes.map((h) => [h.email, h.hash]),
        [
          [fixture.alice.email, '$argon2id$'],
          [fixture.bob.email, '$argon2id$'],
        ],
      );
      const invited = await store.query<{ email: string; user_id: string | null }>(
        `SELECT email, user_id FROM organization_user WHERE status = 0`,
      );
      assert.deepEqual(invited, [{ email: `carol-${tag}@example.com`, user_id: null }], 'the invitation stays one');
    } finally {
      await store.close();
    }
  });
});
