import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BwCli, enableTotp, passwordLogin, registerAccount, type HttpClient } from '@keyhaven/testing';
import { decryptCipher, totpCode, type Account } from '@keyhaven/vault-crypto';

/** Where the suite finds the server: the all-in-one, or the split services behind a router. */
export interface CliTarget {
  readonly url: string;
  readonly caPath: string | undefined;
  readonly http: HttpClient;
}

const PASSWORD = 'correct horse battery staple';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXP';

interface BwItem {
  id: string;
  type: number;
  name: string;
  notes: string | null;
  folderId: string | null;
  favorite: boolean;
  fields?: { name: string; value: string; type: number }[];
  login?: {
    username: string | null;
    password: string | null;
    totp: string | null;
    uris: { uri: string; match: number | null }[];
  };
  card?: Record<string, string | null>;
  identity?: Record<string, string | null>;
  secureNote?: { type: number };
  sshKey?: { privateKey: string; publicKey: string; keyFingerprint: string };
  deletedDate?: string | null;
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

/** The items the suite creates, one of every type, as `bw create item` takes them. */
function itemsToCreate(folderId: string): Record<string, Record<string, unknown>> {
  return {
    login: {
      type: 1,
      name: 'Mail account',
      notes: 'primary mailbox',
      favorite: true,
      folderId,
      fields: [
        { name: 'pin', value: '2468', type: 1 },
        { name: 'region', value: 'eu-west', type: 0 },
      ],
      login: {
        username: 'alice@mail.example',
        password: 'p@ssw0rd-with-ünïcode',
        totp: TOTP_SECRET,
        uris: [
          { uri: 'https://mail.example.com/login', match: 0 },
          { uri: 'https://webmail.example.org', match: 1 },
        ],
      },
      reprompt: 0,
    },
    secureNote: { type: 2, name: 'Door codes', notes: 'front: 1234\nback: 5678', secureNote: { type: 0 } },
    card: {
      type: 3,
      name: 'Travel card',
      card: {
        cardholderName: 'Alice Liddell',
        brand: 'Visa',
        number: '4111111111111111',
        expMonth: '12',
        expYear: '2031',
        code: '123',
      },
    },
    identity: {
      type: 4,
      name: 'Passport identity',
      identity: {
        title: 'Ms',
        firstName: 'Alice',
        middleName: null,
        lastName: 'Liddell',
        address1: '1 Rabbit Hole',
        address2: null,
        address3: null,
        city: 'Oxford',
        state: null,
        postalCode: 'OX1',
        country: 'GB',
        company: 'Wonderland Ltd',
        email: 'alice@example.com',
        phone: '+44 1865 000000',
        ssn: '000-00-0000',
        username: 'aliddell',
        passportNumber: 'P1234567',
        licenseNumber: 'L7654321',
      },
    },
    sshKey: {
      type: 5,
      name: 'Deploy key',
      sshKey: {
        privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
        publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE deploy@example',
        keyFingerprint: 'SHA256:2Vn8mZ0O0xYz1Xo5ZQ0r3v6m1K8hJb0Lk4tXo0Wc6tE',
      },
    },
  };
}

/** Only the fields a test put in: the CLI adds defaults around them and leaves empty (null) ones out. */
function assertContains(actual: unknown, expected: unknown, path = 'item'): void {
  if (expected === null) {
    assert.ok(actual === null || actual === undefined, `${path} is empty`);
    return;
  }
  if (typeof expected !== 'object') {
    assert.deepEqual(actual, expected, path);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} is a list`);
    assert.equal(actual.length, expected.length, `${path} length`);
    expected.forEach((e, i) => {
      assertContains(actual[i], e, `${path}[${i}]`);
    });
    return;
  }
  assert.ok(actual !== null && typeof actual === 'object', `${path} is an object`);
  for (const [key, value] of Object.entries(expected)) {
    assertContains((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
  }
}

export function cliSuite(name: string, target: () => CliTarget): void {
  describe(`the official bw CLI against ${name}`, () => {
    let server: CliTarget;
    let account: Account;
    let bw: BwCli;
    let workFolderId = '';
    const created = new Map<string, BwItem>();
    const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-cli-'));
    const email = `alice-${Date.now()}@example.com`;

    before(async () => {
      server = target();
      account = await registerAccount(server.http, email, PASSWORD);
      bw = new BwCli(server.caPath);
    });

    after(() => {
      bw.cleanup();
      rmSync(scratch, { recursive: true, force: true });
    });

    test('config server, login with the master password, status, sync', async () => {
      await bw.ok(['config', 'server', server.url]);
      bw.session = (await bw.ok(['login', email, PASSWORD, '--raw'])).trim();
      assert.ok(bw.session.length > 20, 'login returns a session key');
      const status = await bw.json<{ status: string; userEmail: string; serverUrl: string }>(['status']);
      assert.equal(status.status, 'unlocked');
      assert.equal(status.userEmail, email);
      assert.equal(status.serverUrl, server.url);
      assert.match(await bw.ok(['sync', '--force']), /Syncing complete/);
    });

    test('folders: create, list, get, edit, delete', async () => {
      const work = await bw.json<{ id: string; name: string }>(['create', 'folder', encode({ name: 'Work' })]);
      const temp = await bw.json<{ id: string; name: string }>(['create', 'folder', encode({ name: 'Temporary' })]);
      workFolderId = work.id;
      const names = (await bw.json<{ name: string }[]>(['list', 'folders'])).map((f) => f.name).sort();
      assert.deepEqual(names, ['No Folder', 'Temporary', 'Work']);
      assert.equal((await bw.json<{ name: string }>(['get', 'folder', temp.id])).name, 'Temporary');
      const edited = await bw.json<{ name: string }>(['edit', 'folder', temp.id, encode({ name: 'Scratch' })]);
      assert.equal(edited.name, 'Scratch');
      await bw.ok(['delete', 'folder', temp.id]);
      await bw.ok(['sync', '--force']);
      const after = (await bw.json<{ name: string }[]>(['list', 'folders'])).map((f) => f.name).sort();
      assert.deepEqual(after, ['No Folder', 'Work']);
    });

    test('items of every type: create, list, search, get; decrypted content is what went in', async () => {
      for (const [kind, item] of Object.entries(itemsToCreate(workFolderId))) {
        const made = await bw.json<BwItem>(['create', 'item', encode(item)]);
        assertContains(made, item, kind);
        created.set(kind, made);
      }
      await bw.ok(['sync', '--force']);
      const listed = await bw.json<BwItem[]>(['list', 'items']);
      assert.equal(listed.length, 5);
      for (const [kind, item] of Object.entries(itemsToCreate(workFolderId))) {
        const id = created.get(kind)?.id ?? '';
        assertContains(await bw.json<BwItem>(['get', 'item', id]), item, kind);
      }
      const found = await bw.json<BwItem[]>(['list', 'items', '--search', 'passport']);
      assert.deepEqual(
        found.map((i) => i.name),
        ['Passport identity'],
      );
      const inFolder = await bw.json<BwItem[]>(['list', 'items', '--folderid', workFolderId]);
      assert.deepEqual(
        inFolder.map((i) => i.name),
        ['Mail account'],
      );
    });

    test('the server holds only ciphertext, which decrypts to the same content', async () => {
      const session = await passwordLogin(server.http, account, {}, '0f5d0b9e-8d8c-4c48-9d1a-51a4e2a4b7c1');
      const sync = await server.http.get<{ ciphers: Record<string, unknown>[] }>('/api/sync', {
        token: session.accessToken,
      });
      assert.equal(sync.status, 200);
      assert.doesNotMatch(JSON.stringify(sync.body), /p@ssw0rd|Wonderland|4111111111111111|Door codes/);
      const mail = sync.body.ciphers.find((c) => c['id'] === created.get('login')?.id);
      assert.ok(mail, 'the login item is in the sync');
      const plain = decryptCipher(account.userKey, mail as never);
      assert.equal(plain.name, 'Mail account');
      assert.equal(plain.type, 1);
      assert.equal(plain.login.password, 'p@ssw0rd-with-ünïcode');
      assert.deepEqual(mail['permissions'], { delete: true, restore: true });
      assert.equal(mail['edit'], true);
      assert.equal(mail['deletedDate'], null);
    });

    test('get totp gives the current code of the login', async () => {
      const id = created.get('login')?.id ?? '';
      const code = (await bw.ok(['get', 'totp', id])).trim();
      assert.ok([totpCode(TOTP_SECRET), totpCode(TOTP_SECRET, Date.now() - 30_000)].includes(code), `code ${code}`);
    });

    test('edit an item', async () => {
      const id = created.get('login')?.id ?? '';
      const current = await bw.json<BwItem & { login: NonNullable<BwItem['login']> }>(['get', 'item', id]);
      const changed = { ...current, notes: 'rotated', login: { ...current.login, password: 'n3w-secret' } };
      const edited = await bw.json<BwItem>(['edit', 'item', id, encode(changed)]);
      assert.equal(edited.notes, 'rotated');
      assert.equal(edited.login?.password, 'n3w-secret');
      await bw.ok(['sync', '--force']);
      assert.equal((await bw.json<BwItem>(['get', 'item', id])).login?.password, 'n3w-secret');
    });

    test('delete to trash, list the trash, restore, delete permanently', async () => {
      const noteId = created.get('secureNote')?.id ?? '';
      const cardId = created.get('card')?.id ?? '';
      await bw.ok(['delete', 'item', noteId]);
      await bw.ok(['sync', '--force']);
      const trash = await bw.json<BwItem[]>(['list', 'items', '--trash']);
      assert.deepEqual(
        trash.map((i) => i.id),
        [noteId],
      );
      await bw.ok(['restore', 'item', noteId]);
      await bw.ok(['sync', '--force']);
      assert.deepEqual(await bw.json<BwItem[]>(['list', 'items', '--trash']), []);
      await bw.ok(['delete', 'item', cardId, '--permanent']);
      await bw.ok(['sync', '--force']);
      const remaining = await bw.json<BwItem[]>(['list', 'items']);
      assert.equal(remaining.length, 4);
      assert.ok(!remaining.some((i) => i.id === cardId));
      const gone = await bw.run(['get', 'item', cardId]);
      assert.notEqual(gone.code, 0);
    });

    test('import bitwardenjson and lastpasscsv', async () => {
      const bitwardenFile = join(scratch, 'import.json');
      writeFileSync(
        bitwardenFile,
        JSON.stringify({
          encrypted: false,
          folders: [{ id: '8e6b2c1a-1f1e-4b8a-9e3e-1c2d3e4f5a6b', name: 'Imported' }],
          items: [
            {
              id: 'b1f0a6a2-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
              folderId: '8e6b2c1a-1f1e-4b8a-9e3e-1c2d3e4f5a6b',
              type: 1,
              name: 'Imported login',
              notes: null,
              favorite: false,
              login: {
                username: 'imp',
                password: 'imported-pw',
                totp: null,
                uris: [{ uri: 'https://imported.example', match: null }],
              },
              reprompt: 0,
            },
            {
              type: 2,
              name: 'Imported note',
              notes: 'hello from json',
              secureNote: { type: 0 },
              favorite: false,
              reprompt: 0,
            },
          ],
        }),
      );
      await bw.ok(['import', 'bitwardenjson', bitwardenFile]);
      const lastpassFile = join(scratch, 'lastpass.csv');
      writeFileSync(
        lastpassFile,
        'url,username,password,totp,extra,name,grouping,fav\n' +
          'https://bank.example,lpuser,lp-secret,,,Bank,Finance,0\n' +
          'http://sn,,,,"a secure note",LP note,Finance,0\n',
      );
      await bw.ok(['import', 'lastpasscsv', lastpassFile]);
      await bw.ok(['sync', '--force']);
      const items = await bw.json<BwItem[]>(['list', 'items']);
      const byName = new Map(items.map((i) => [i.name, i]));
      assert.equal(byName.get('Imported login')?.login?.password, 'imported-pw');
      assert.equal(byName.get('Imported note')?.notes, 'hello from json');
      assert.equal(byName.get('Bank')?.login?.password, 'lp-secret');
      assert.equal(byName.get('LP note')?.notes, 'a secure note');
      const folders = new Map(
        (await bw.json<{ id: string; name: string }[]>(['list', 'folders'])).map((f) => [f.name, f.id]),
      );
      assert.equal(byName.get('Imported login')?.folderId, folders.get('Imported'));
      assert.equal(byName.get('Bank')?.folderId, folders.get('Finance'));
    });

    test('export as json, csv and password-protected encrypted_json', async () => {
      const jsonFile = join(scratch, 'export.json');
      await bw.ok(['export', '--format', 'json', '--output', jsonFile]);
      const exported = JSON.parse(readFileSync(jsonFile, 'utf8')) as { items: BwItem[]; folders: { name: string }[] };
      assert.equal(exported.items.length, 8);
      assert.ok(exported.items.some((i) => i.login?.password === 'n3w-secret'));
      assert.ok(exported.folders.some((f) => f.name === 'Work'));

      const csvFile = join(scratch, 'export.csv');
      await bw.ok(['export', '--format', 'csv', '--output', csvFile]);
      const csv = readFileSync(csvFile, 'utf8');
      assert.match(csv, /Mail account/);
      assert.match(csv, /lp-secret/);

      const encryptedFile = join(scratch, 'export-encrypted.json');
      await bw.ok(['export', '--format', 'encrypted_json', '--password', 'export-password', '--output', encryptedFile]);
      const encrypted = JSON.parse(readFileSync(encryptedFile, 'utf8')) as {
        encrypted: boolean;
        passwordProtected: boolean;
        data: string;
      };
      assert.equal(encrypted.encrypted, true);
      assert.equal(encrypted.passwordProtected, true);
      assert.match(encrypted.data, /^2\./);
      assert.doesNotMatch(readFileSync(encryptedFile, 'utf8'), /Mail account|n3w-secret/);
    });

    test('lock and unlock', async () => {
      await bw.ok(['lock']);
      const locked = await bw.json<{ status: string }>(['status']);
      assert.equal(locked.status, 'locked');
      bw.session = (await bw.ok(['unlock', PASSWORD, '--raw'])).trim();
      assert.equal((await bw.json<{ status: string }>(['status'])).status, 'unlocked');
      assert.equal((await bw.json<BwItem[]>(['list', 'items'])).length, 8);
    });

    test('logout, then login with the personal API key', async () => {
      const session = await passwordLogin(server.http, account, {}, '2c7f9a0e-5b8d-4a3c-9f1e-7d6c5b4a3e2f');
      const apiKey = await server.http.post<{ apiKey: string }>('/api/accounts/api-key', {
        token: session.accessToken,
        json: { masterPasswordHash: account.masterPasswordHash },
      });
      assert.equal(apiKey.status, 200);
      await bw.ok(['logout']);
      bw.session = undefined;
      const userId = (
        JSON.parse(Buffer.from(session.accessToken.split('.')[1] ?? '', 'base64url').toString()) as { sub: string }
      ).sub;
      await bw.ok(['login', '--apikey'], {
        env: { BW_CLIENTID: `user.${userId}`, BW_CLIENTSECRET: apiKey.body.apiKey },
      });
      bw.session = (await bw.ok(['unlock', PASSWORD, '--raw'])).trim();
      assert.equal((await bw.json<{ status: string }>(['status'])).status, 'unlocked');
      assert.equal((await bw.json<BwItem[]>(['list', 'items'])).length, 8);
      const wrong = await bw.run(['login', '--apikey'], {
        env: { BW_CLIENTID: `user.${userId}`, BW_CLIENTSECRET: 'not-the-secret' },
      });
      assert.notEqual(wrong.code, 0);
    });

    test('two-step login with an authenticator code', async () => {
      const session = await passwordLogin(server.http, account, {}, '3d8e0b1f-6c9e-4b4d-8a2f-8e7d6c5b4a3f');
      const secret = await enableTotp(server.http, account, session.accessToken);
      await bw.ok(['logout']);
      bw.session = undefined;

      const withoutCode = await bw.run(['login', email, PASSWORD, '--raw']);
      assert.notEqual(withoutCode.code, 0);
      assert.match(withoutCode.stdout + withoutCode.stderr, /code is required/i);

      const wrongCode = await bw.run(['login', email, PASSWORD, '--method', '0', '--code', '000000', '--raw']);
      assert.notEqual(wrongCode.code, 0);

      // The enrolment used the current time step; a code of the next step is within the accepted window.
      const code = totpCode(secret, Date.now() + 30_000);
      bw.session = (await bw.ok(['login', email, PASSWORD, '--method', '0', '--code', code, '--raw'])).trim();
      assert.equal((await bw.json<{ status: string }>(['status'])).status, 'unlocked');
      assert.equal((await bw.json<BwItem[]>(['list', 'items'])).length, 8);
    });
  });
}
