import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { encryptType2, hkdfExpand, SymmetricKey } from '@keyhaven/vault-crypto';
import { pbkdf2Sync } from 'node:crypto';

/** A login as each test expects to read it back: what the export file said. */
export interface SampleLogin {
  name: string;
  url: string;
  username: string;
  password: string;
  notes: string;
  totp: string;
  folder: string;
}

/** Realistic rows: commas, quotes, multi-line notes, Unicode, empty fields; deterministic for a given count. */
export function sampleLogins(count: number): SampleLogin[] {
  const out: SampleLogin[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 5;
    out.push({
      name: kind === 0 ? `Bank, "Main" #${i}` : kind === 1 ? `Ünïcödé 日本語 ${i} 🔐` : `Site ${i}`,
      url: kind === 3 ? '' : `https://site${i}.example.com/login`,
      username: kind === 2 ? '' : `user${i}@example.com`,
      password: kind === 4 ? `p"a,s\ns ${i}` : `pw-${i}-Zx9!`,
      notes: kind === 0 ? `line one ${i}\nline "two", with comma\nline 3` : kind === 1 ? 'Grüße – ça va?' : '',
      totp: kind === 2 ? 'JBSWY3DPEHPK3PXP' : '',
      folder: kind === 1 ? 'Work/Ünïcödé' : kind === 3 ? '' : 'Personal',
    });
  }
  return out;
}

const q = (v: string): string => `"${v.replace(/"/g, '""')}"`;
/** Every value quoted, CRLF line ends: as the browsers and LastPass write their exports. */
export const csvFile = (header: readonly string[], rows: readonly (readonly string[])[]): string =>
  [header.join(','), ...rows.map((r) => r.map(q).join(','))].join('\r\n') + '\r\n';

/** LastPass: backslash-separated grouping; `brokenAfter` inserts a row with a missing column after that index. */
export function lastPassCsv(items: readonly SampleLogin[], brokenAfter?: number): string {
  const header = ['url', 'username', 'password', 'totp', 'extra', 'name', 'grouping', 'fav'];
  const rows: string[][] = [];
  items.forEach((s, i) => {
    rows.push([s.url, s.username, s.password, s.totp, s.notes, s.name, s.folder.replace(/\//g, '\\'), '0']);
    if (i === brokenAfter) rows.push(['https://broken.example.com', 'broken-user', 'broken-pw']);
  });
  return csvFile(header, rows);
}

export function chromeCsv(items: readonly SampleLogin[]): string {
  return csvFile(
    ['name', 'url', 'username', 'password', 'note'],
    items.map((s) => [s.name, s.url, s.username, s.password, s.notes]),
  );
}

/** The columns of Firefox's password export (about:logins → Export), in its order. */
export const FIREFOX_CSV_HEADER: readonly string[] = [
  'url',
  'username',
  'password',
  'httpRealm',
  'formActionOrigin',
  'guid',
  'timeCreated',
  'timeLastUsed',
  'timePasswordChanged',
];

export function firefoxCsv(items: readonly SampleLogin[]): string {
  const header = FIREFOX_CSV_HEADER;
  return csvFile(
    header,
    items.map((s, i) => [
      s.url,
      s.username,
      s.password,
      '',
      s.url,
      `{${i}}`,
      '1700000000000',
      '1700000000000',
      '1700000000000',
    ]),
  );
}

export function safariCsv(items: readonly SampleLogin[]): string {
  const header = ['Title', 'URL', 'Username', 'Password', 'Notes', 'OTPAuth'];
  return csvFile(
    header,
    items.map((s) => [s.name, s.url, s.username, s.password, s.notes, s.totp]),
  );
}

export function onePasswordCsv(items: readonly SampleLogin[]): string {
  const header = ['Title', 'Url', 'Username', 'Password', 'OTPAuth', 'Favorite', 'Archived', 'Tags', 'Notes'];
  return csvFile(
    header,
    items.map((s) => [s.name, s.url, s.username, s.password, s.totp, 'false', 'false', '', s.notes]),
  );
}

export const xmlText = (v: string): string =>
  v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function keePassXml(items: readonly SampleLogin[]): string {
  const entry = (s: SampleLogin): string =>
    `<Entry>${[
      ['Title', s.name],
      ['UserName', s.username],
      ['Password', s.password, true],
      ['URL', s.url],
      ['Notes', s.notes],
      ...(s.totp ? [['otp', s.totp]] : []),
    ]
      .map(
        ([k, v, p]) =>
          `<String><Key>${String(k)}</Key><Value${p ? ' ProtectInMemory="True"' : ''}>${xmlText(String(v))}</Value></String>`,
      )
      .join('')}<History><Entry><String><Key>Title</Key><Value>old</Value></String></Entry></History></Entry>`;
  // Groups nest by the folder path; the root group ("Database") is not a folder.
  const groups = new Map<string, SampleLogin[]>();
  for (const s of items) groups.set(s.folder, [...(groups.get(s.folder) ?? []), s]);
  const render = (path: string[], depth: number): string => {
    const here = path.join('/');
    const children = [
      ...new Set(
        [...groups.keys()]
          .filter((f) => f !== '' && f.split('/').slice(0, depth).join('/') === here && f.split('/').length > depth)
          .map((f) => f.split('/')[depth] ?? ''),
      ),
    ];
    return `${(groups.get(here) ?? []).map(entry).join('')}${children.map((c) => `<Group><Name>${xmlText(c)}</Name>${render([...path, c], depth + 1)}</Group>`).join('')}`;
  };
  return `<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<KeePassFile><Meta><Generator>KeePass</Generator></Meta><Root><Group><Name>Database</Name>${render([], 0)}</Group></Root></KeePassFile>\n`;
}

/** A plain Bitwarden export with every item type; folder ids as the clients write them. */
export function bitwardenJson(items: readonly SampleLogin[]): Record<string, unknown> {
  const folders = [...new Set(items.map((s) => s.folder).filter(Boolean))].map((name, i) => ({
    id: `0000000${i}-0000-4000-8000-000000000000`,
    name,
  }));
  const folderId = (name: string) => folders.find((f) => f.name === name)?.id ?? null;
  return {
    encrypted: false,
    folders,
    items: [
      ...items.map((s) => ({
        type: 1,
        name: s.name,
        notes: s.notes || null,
        favorite: false,
        folderId: folderId(s.folder),
        fields: [{ name: 'PIN', value: '1234', type: 1, linkedId: null }],
        login: {
          username: s.username || null,
          password: s.password,
          totp: s.totp || null,
          uris: s.url ? [{ uri: s.url, match: null }] : [],
        },
      })),
      {
        type: 2,
        name: 'Wi-Fi',
        notes: 'SSID: home\nkey: “secret”',
        favorite: true,
        folderId: null,
        secureNote: { type: 0 },
      },
      {
        type: 3,
        name: 'Visa',
        notes: null,
        folderId: null,
        card: {
          cardholderName: 'Zoë Q',
          brand: 'Visa',
          number: '4111111111111111',
          expMonth: '7',
          expYear: '2031',
          code: '123',
        },
      },
      {
        type: 4,
        name: 'Me',
        notes: null,
        folderId: null,
        identity: { firstName: 'Zoë', lastName: 'Quinn', email: 'zoe@example.com', city: 'Zürich', country: 'CH' },
      },
    ],
  };
}

/** The password-protected form, made as the clients make it (PBKDF2 over the password and a random salt, HKDF-stretched). */
export function bitwardenProtected(plain: Record<string, unknown>, password: string, iterations = 5000): string {
  const salt = randomBytes(16).toString('base64');
  const master = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), iterations, 32, 'sha256');
  const key = SymmetricKey.fromParts(hkdfExpand(master, 'enc', 32), hkdfExpand(master, 'mac', 32));
  return JSON.stringify({
    encrypted: true,
    passwordProtected: true,
    salt,
    kdfType: 0,
    kdfIterations: iterations,
    kdfMemory: null,
    kdfParallelism: null,
    encKeyValidation_DO_NOT_EDIT: encryptType2(key, '7f2b8c1e-0000-4000-8000-000000000001'),
    data: encryptType2(key, JSON.stringify(plain)),
  });
}

/** A 1PUX: a zip (stored entries) with `export.attributes` and `export.data`. */
export function onePux(items: readonly SampleLogin[]): Buffer {
  const vaults = new Map<string, SampleLogin[]>();
  for (const s of items) vaults.set(s.folder || 'Private', [...(vaults.get(s.folder || 'Private') ?? []), s]);
  const data = {
    accounts: [
      {
        attrs: { name: 'Test', email: 'test@example.com' },
        vaults: [
          ...[...vaults].map(([name, list]) => ({
            attrs: { name },
            items: list.map((s, i) => ({
              uuid: `u${i}`,
              favIndex: 0,
              state: 'active',
              categoryUuid: '001',
              overview: { title: s.name, url: s.url, urls: s.url ? [{ label: 'website', url: s.url }] : [] },
              details: {
                loginFields: [
                  { value: s.username, designation: 'username', name: 'username', fieldType: 'T' },
                  { value: s.password, designation: 'password', name: 'password', fieldType: 'P' },
                ],
                notesPlain: s.notes,
                sections: s.totp
                  ? [{ title: '', fields: [{ title: 'one-time password', id: 'TOTP_1', value: { totp: s.totp } }] }]
                  : [],
              },
            })),
          })),
          {
            attrs: { name: 'Cards' },
            items: [
              {
                uuid: 'card1',
                favIndex: 1,
                state: 'active',
                categoryUuid: '002',
                overview: { title: 'Amex' },
                details: {
                  notesPlain: '',
                  sections: [
                    {
                      title: '',
                      fields: [
                        { title: 'cardholder name', id: 'cardholder', value: { string: 'Zoë Q' } },
                        { title: 'number', id: 'ccnum', value: { creditCardNumber: '378282246310005' } },
                        { title: 'verification number', id: 'cvv', value: { concealed: '1234' } },
                        { title: 'expiry date', id: 'expiry', value: { monthYear: 203012 } },
                      ],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
  return storedZip([
    [
      'export.attributes',
      Buffer.from(JSON.stringify({ version: 3, description: '1PUX export', createdAt: 1700000000 })),
    ],
    ['export.data', Buffer.from(JSON.stringify(data), 'utf8')],
  ]);
}

/** A minimal zip writer (stored, no compression): enough for a test file. */
export function storedZip(entries: [string, Buffer][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}
