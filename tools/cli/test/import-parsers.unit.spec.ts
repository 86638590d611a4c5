import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlainCipher } from '@keyhaven/vault-crypto';
import type { ImportFormat, ParseResult } from '../src/import/model';
import { parseExport } from '../src/import/parse';
import { fingerprint, normaliseUri } from '../src/vault/fingerprint';
import { planUpload } from '../src/vault/upload';
import {
  bitwardenJson,
  bitwardenProtected,
  chromeCsv,
  firefoxCsv,
  keePassXml,
  lastPassCsv,
  onePasswordCsv,
  onePux,
  safariCsv,
  sampleLogins,
  type SampleLogin,
} from '@keyhaven/testing';

const samples = sampleLogins(25);
const orNull = (v: string): string | null => (v === '' ? null : v);
const noPassword = (): Promise<string> => Promise.reject(new Error('no password expected'));

function parse(format: ImportFormat, data: string | Buffer, filePassword = noPassword): Promise<ParseResult> {
  return parseExport(format, Buffer.from(data), { filePassword, userKey: null });
}

interface Expect {
  name?: (s: SampleLogin) => string;
  notes?: boolean;
  totp?: boolean;
  folder?: (s: SampleLogin) => string | null;
  /** The file groups items (by folder): find each by its name instead of its position. */
  byName?: boolean;
}

/** Every login read back as the file said, field by field. */
function assertLogins(result: ParseResult, expect: Expect = {}): void {
  assert.deepEqual(result.failures, []);
  const logins = result.items.filter((i) => i.cipher.type === 1);
  assert.equal(logins.length, samples.length);
  samples.forEach((s, i) => {
    const item = expect.byName ? logins.find((l) => l.cipher.name === s.name) : logins[i];
    assert.ok(item);
    const c = item.cipher as Extract<PlainCipher, { type: 1 }>;
    assert.equal(c.name, expect.name ? expect.name(s) : s.name, `name of ${i}`);
    assert.equal(c.login.username ?? null, orNull(s.username), `username of ${i}`);
    assert.equal(c.login.password ?? null, orNull(s.password), `password of ${i}`);
    assert.deepEqual(c.login.uris?.map((u) => u.uri) ?? [], s.url ? [s.url] : [], `uris of ${i}`);
    if (expect.notes !== false) assert.equal(c.notes ?? null, orNull(s.notes), `notes of ${i}`);
    if (expect.totp !== false) assert.equal(c.login.totp ?? null, orNull(s.totp), `totp of ${i}`);
    assert.equal(item.folder, expect.folder ? expect.folder(s) : orNull(s.folder), `folder of ${i}`);
  });
}

describe('import parsers', () => {
  test('LastPass CSV: quoting, multi-line notes, Unicode, empty fields, grouping paths', async () => {
    assertLogins(await parse('lastpass', lastPassCsv(samples)));
  });

  test('LastPass CSV with a broken row: that row reported with its line, the rest read', async () => {
    const result = await parse('lastpass', lastPassCsv(samples, 2));
    assert.equal(result.items.length, samples.length);
    assert.equal(result.failures.length, 1);
    // Header line 1; rows 0–2 take lines 2–4 and row 0 has a 3-line note: the broken row starts on line 7.
    assert.match(result.failures[0]?.where ?? '', /^line 7$/);
    assert.match(result.failures[0]?.reason ?? '', /column/i);
  });

  test('LastPass secure notes: cards and addresses become cards and identities', async () => {
    const csv =
      'url,username,password,totp,extra,name,grouping,fav\r\n' +
      '"http://sn","","","","NoteType:Credit Card\nLanguage:en-US\nName on Card:Zoë Q\nType:Visa\nNumber:4111111111111111\nSecurity Code:123\nStart Date:,\nExpiration Date:July,2031\nNotes:first\nsecond","Visa","Cards","1"\r\n' +
      '"http://sn","","","","NoteType:Address\nFirst Name:Zoë\nLast Name:Quinn\nCity / Town:Zürich\nEmail Address:zoe@example.com\nNotes:","Home","","0"\r\n' +
      '"http://sn","","","","just a note","Plain","","0"\r\n';
    const { items, failures } = await parse('lastpass', csv);
    assert.deepEqual(failures, []);
    const [card, identity, note] = items.map((i) => i.cipher);
    assert.equal(card?.type, 3);
    {
      assert.deepEqual(
        [
          card.card.cardholderName,
          card.card.brand,
          card.card.number,
          card.card.code,
          card.card.expMonth,
          card.card.expYear,
        ],
        ['Zoë Q', 'Visa', '4111111111111111', '123', '7', '2031'],
      );
      assert.equal(card.notes, 'first\nsecond');
      assert.equal(card.favorite, true);
    }
    assert.equal(identity?.type, 4);
    assert.equal(identity.identity.city, 'Zürich');
    assert.deepEqual([note?.type, note?.notes], [2, 'just a note']);
  });

  test('Chrome, Firefox, Safari and 1Password CSV', async () => {
    assertLogins(await parse('chrome', chromeCsv(samples)), { totp: false, folder: () => null });
    assertLogins(await parse('safari', safariCsv(samples)), { folder: () => null });
    assertLogins(await parse('1password-csv', onePasswordCsv(samples)), { folder: () => null });
    assertLogins(await parse('firefox', firefoxCsv(samples)), {
      name: (s) => (s.url ? new URL(s.url).hostname : '--'),
      notes: false,
      totp: false,
      folder: () => null,
    });
  });

  test('KeePass 2 XML: groups as folder paths, protected strings, history ignored', async () => {
    assertLogins(await parse('keepass', keePassXml(samples)), { byName: true });
  });

  test('1PUX: vaults as folders, TOTP, cards', async () => {
    const result = await parse('1password-1pux', onePux(samples));
    const cards = result.items.filter((i) => i.cipher.type === 3);
    assert.equal(cards.length, 1);
    const card = cards[0]?.cipher;
    if (card?.type === 3)
      assert.deepEqual(
        [card.card.number, card.card.code, card.card.expMonth, card.card.expYear],
        ['378282246310005', '1234', '12', '2030'],
      );
    // Items come grouped by vault: compare by name.
    const logins = result.items.filter((i) => i.cipher.type === 1);
    assert.equal(logins.length, samples.length);
    for (const s of samples) {
      const found = logins.find((l) => l.cipher.name === s.name);
      assert.ok(found, s.name);
      const c = found.cipher as Extract<PlainCipher, { type: 1 }>;
      assert.deepEqual(
        [c.login.username, c.login.password, c.login.totp, c.notes, found.folder],
        [orNull(s.username), s.password, orNull(s.totp), orNull(s.notes), s.folder || 'Private'],
      );
    }
  });

  test('Bitwarden JSON, plain and password-protected; a wrong password is refused', async () => {
    const plain = bitwardenJson(samples);
    const check = (result: ParseResult) => {
      assert.equal(result.items.length, samples.length + 3);
      assert.deepEqual(
        result.items.slice(samples.length).map((i) => i.cipher.type),
        [2, 3, 4],
      );
      assertLogins({ items: result.items.slice(0, samples.length), failures: result.failures });
    };
    check(await parse('bitwarden', JSON.stringify(plain)));
    const file = bitwardenProtected(plain, 'file päss');
    check(await parse('bitwarden', file, () => Promise.resolve('file päss')));
    await assert.rejects(
      parse('bitwarden', file, () => Promise.resolve('wrong')),
      /wrong password/,
    );
  });
});

describe('the duplicate rule', () => {
  test('URIs are compared normalised', () => {
    assert.equal(normaliseUri('HTTPS://Example.COM:443/login/'), 'https://example.com/login');
    assert.equal(normaliseUri('example.com'), 'https://example.com');
    assert.notEqual(normaliseUri('https://www.example.com'), normaliseUri('https://example.com'));
  });

  test('same type, name, username, URIs and secret: a duplicate; any difference: not', () => {
    const base: PlainCipher = {
      type: 1,
      name: 'A',
      login: { username: 'u', password: 'p', uris: [{ uri: 'https://a.example/' }] },
    };
    assert.equal(
      fingerprint(base),
      fingerprint({ ...base, login: { ...base.login, uris: [{ uri: 'HTTPS://A.example' }] } }),
    );
    assert.notEqual(fingerprint(base), fingerprint({ ...base, login: { ...base.login, password: 'q' } }));
    assert.notEqual(fingerprint(base), fingerprint({ ...base, name: 'B' }));
    assert.notEqual(fingerprint(base), fingerprint({ type: 2, name: 'A', notes: 'p' }));
  });

  test('an identity from a file (some fields) equals the same identity from the vault (every field, empty ones null)', () => {
    const fromFile: PlainCipher = { type: 4, name: 'Me', identity: { firstName: 'Zoë', city: 'Zürich' } };
    const fromVault: PlainCipher = {
      type: 4,
      name: 'Me',
      identity: { title: null, firstName: 'Zoë', lastName: null, city: 'Zürich', email: '', ssn: null },
    };
    assert.equal(fingerprint(fromFile), fingerprint(fromVault));
    assert.notEqual(fingerprint(fromFile), fingerprint({ ...fromFile, identity: { firstName: 'Zoë', city: 'Bern' } }));
  });

  test('within the input and against the vault', async () => {
    const { items } = await parse('lastpass', lastPassCsv([...samples, ...samples.slice(0, 5)]));
    const upload = items.map((i, n) => ({ ...i, where: `item ${n + 1}` }));
    const index = { byFingerprint: new Map(), containers: new Map([['Personal', 'f1']]), undecryptable: 0 };
    const first = planUpload(upload, index);
    assert.deepEqual([first.toCreate.length, first.duplicatesInFile, first.duplicatesInVault], [25, 5, 0]);
    assert.deepEqual(first.newContainers, ['Work/Ünïcödé']);
    for (const item of first.toCreate.slice(0, 10))
      index.byFingerprint.set(fingerprint(item.cipher), [
        { id: 'x', name: null, key: null as never, attachmentNames: [], revisionDate: null },
      ]);
    const second = planUpload(upload, index);
    assert.deepEqual([second.toCreate.length, second.duplicatesInFile, second.duplicatesInVault], [15, 0, 15]);
  });
});
