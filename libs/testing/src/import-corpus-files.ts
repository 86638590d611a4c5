import { MONTHS, corpus, plainFields, withCopies, type CorpusItem, type FormatSpec } from './import-corpus';
import { ONEPUX } from './import-corpus-onepux';
import { FIREFOX_CSV_HEADER, bitwardenProtected, csvFile, xmlText } from './import-fixtures';

/** An export file of one format made from the corpus, and the items bw must show after importing it. */
export interface FormatFixture {
  readonly format: string;
  readonly file: Buffer;
  /** For a password-protected Bitwarden export. */
  readonly filePassword?: string;
  /** Records in the file (items, copies included). */
  readonly records: number;
  /** The distinct items, as the format carries them. */
  readonly expected: CorpusItem[];
  readonly copies: number;
}

export const FIXTURE_FORMATS = [
  'lastpass',
  'chrome',
  'firefox',
  'safari',
  '1password-csv',
  'keepass',
  'bitwarden',
  'bitwarden-protected',
  '1password-1pux',
] as const;
export type FixtureFormat = (typeof FIXTURE_FORMATS)[number];

const hostOf = (url: string | undefined): string | null => (url ? new URL(url).hostname : null);
const loginOnly = (item: CorpusItem, parts: Partial<CorpusItem> & { totp?: boolean }): CorpusItem => ({
  type: 1,
  name: item.name,
  notes: item.notes,
  favorite: false,
  folder: null,
  fields: [],
  ...parts,
  login: {
    username: item.login?.username ?? null,
    password: item.login?.password ?? null,
    totp: parts.totp === false ? null : (item.login?.totp ?? null),
    uris: item.login?.uris.slice(0, 1) ?? [],
  },
});
const url0 = (item: CorpusItem): string => item.login?.uris[0] ?? '';

function lastPassExtra(item: CorpusItem): string {
  const c = item.card;
  const id = item.identity;
  if (c)
    return [
      'NoteType:Credit Card',
      'Language:en-US',
      `Name on Card:${c['cardholderName']}`,
      `Type:${c['brand']}`,
      `Number:${c['number']}`,
      `Security Code:${c['code']}`,
      'Start Date:,',
      `Expiration Date:${MONTHS[Number(c['expMonth']) - 1]},${c['expYear']}`,
      `Notes:${item.notes ?? ''}`,
    ].join('\n');
  if (id)
    return [
      'NoteType:Address',
      'Language:en-US',
      `Title:${id['title']}`,
      `First Name:${id['firstName']}`,
      `Middle Name:${id['middleName']}`,
      `Last Name:${id['lastName']}`,
      `Username:${id['username']}`,
      'Gender:',
      'Birthday:',
      `Company:${id['company']}`,
      `Address 1:${id['address1']}`,
      'Address 2:',
      'Address 3:',
      `City / Town:${id['city']}`,
      'County:',
      `State:${id['state']}`,
      `Zip / Postal Code:${id['postalCode']}`,
      `Country:${id['country']}`,
      'Timezone:',
      `Email Address:${id['email']}`,
      `Phone:${id['phone']}`,
      `Notes:${item.notes ?? ''}`,
    ].join('\n');
  return item.notes ?? '';
}

const LASTPASS: FormatSpec = {
  loginsOnly: false,
  project: (item) => {
    const identity = item.identity && { ...item.identity };
    if (identity) delete identity['passportNumber'];
    return item.type === 1
      ? { ...loginOnly(item, {}), favorite: item.favorite, folder: item.folder }
      : { ...item, fields: [], identity };
  },
  write: (items) =>
    Buffer.from(
      csvFile(
        ['url', 'username', 'password', 'totp', 'extra', 'name', 'grouping', 'fav'],
        items.map((i) => [
          i.type === 1 ? url0(i) : 'http://sn',
          i.login?.username ?? '',
          i.login?.password ?? '',
          i.login?.totp ?? '',
          lastPassExtra(i),
          i.name,
          (i.folder ?? '').replace(/\//g, '\\'),
          i.favorite ? '1' : '0',
        ]),
      ),
    ),
};

const CHROME: FormatSpec = {
  loginsOnly: true,
  project: (item) => loginOnly(item, { totp: false }),
  write: (items) =>
    Buffer.from(
      csvFile(
        ['name', 'url', 'username', 'password', 'note'],
        items.map((i) => [i.name, url0(i), i.login?.username ?? '', i.login?.password ?? '', i.notes ?? '']),
      ),
    ),
};

const FIREFOX: FormatSpec = {
  loginsOnly: true,
  // No names in a Firefox export: the host, or "--" without a URL.
  project: (item) => loginOnly(item, { name: hostOf(item.login?.uris[0]) ?? '--', notes: null, totp: false }),
  write: (items) =>
    Buffer.from(
      csvFile(
        FIREFOX_CSV_HEADER,
        items.map((i, n) => {
          const url = url0(i);
          const origin = url ? new URL(url).origin : '';
          const when = String(1_700_000_000_000 + n * 1000);
          return [url, i.login?.username ?? '', i.login?.password ?? '', '', origin, `{guid-${n}}`, when, when, when];
        }),
      ),
    ),
};

const SAFARI: FormatSpec = {
  loginsOnly: true,
  project: (item) => loginOnly(item, {}),
  write: (items) =>
    Buffer.from(
      csvFile(
        ['Title', 'URL', 'Username', 'Password', 'Notes', 'OTPAuth'],
        items.map((i) => [
          i.name,
          url0(i),
          i.login?.username ?? '',
          i.login?.password ?? '',
          i.notes ?? '',
          i.login?.totp ?? '',
        ]),
      ),
    ),
};

/** 1Password's CSV: its fixed columns, then one per custom field name, in the order the corpus adds them. */
const FIELD_COLUMNS = ['PIN', 'Security question', 'Recovery codes', 'Remember me'];
const ONEPASSWORD_CSV: FormatSpec = {
  loginsOnly: true,
  project: (item) =>
    loginOnly(item, {
      favorite: item.favorite,
      fields: plainFields(item.fields).map((f) => ({ ...f, type: /password|pin|secret/i.test(f.name) ? 1 : 0 })),
    }),
  write: (items) => {
    const extra = FIELD_COLUMNS;
    return Buffer.from(
      csvFile(
        ['Title', 'Url', 'Username', 'Password', 'OTPAuth', 'Favorite', 'Archived', 'Tags', 'Notes', ...extra],
        items.map((i) => [
          i.name,
          url0(i),
          i.login?.username ?? '',
          i.login?.password ?? '',
          i.login?.totp ?? '',
          String(i.favorite),
          'false',
          i.folder ?? '',
          i.notes ?? '',
          ...extra.map((name) => plainFields(i.fields).find((f) => f.name === name)?.value ?? ''),
        ]),
      ),
    );
  },
};

/** KeePass 2 XML: one group per folder level; protected strings for hidden fields; a history entry each. */
const KEEPASS: FormatSpec = {
  loginsOnly: true,
  project: (item) => loginOnly(item, { folder: item.folder, fields: plainFields(item.fields) }),
  write: (items) => {
    const value = (key: string, v: string | null, hidden = false): string =>
      `<String><Key>${xmlText(key)}</Key>${
        v === null || v === ''
          ? `<Value${hidden ? ' ProtectInMemory="True"' : ''} />`
          : `<Value${hidden ? ' ProtectInMemory="True"' : ''}>${xmlText(v)}</Value>`
      }</String>`;
    const entry = (i: CorpusItem): string =>
      `<Entry><UUID>AAAA</UUID>${[
        value('Title', i.name),
        value('UserName', i.login?.username ?? null),
        value('Password', i.login?.password ?? null, true),
        value('URL', url0(i)),
        value('Notes', i.notes),
        ...(i.login?.totp ? [value('otp', i.login.totp)] : []),
        ...i.fields.filter((f) => f.type !== 3).map((f) => value(f.name, f.value, f.type === 1)),
      ].join(
        '',
      )}<History><Entry>${value('Title', 'old title')}${value('Password', 'old', true)}</Entry></History></Entry>`;
    interface Group {
      entries: CorpusItem[];
      children: Map<string, Group>;
    }
    const root: Group = { entries: [], children: new Map() };
    for (const i of items) {
      let g = root;
      for (const level of i.folder ? i.folder.split('/') : []) {
        const next = g.children.get(level) ?? { entries: [], children: new Map<string, Group>() };
        g.children.set(level, next);
        g = next;
      }
      g.entries.push(i);
    }
    const render = (g: Group): string =>
      `${g.entries.map(entry).join('\n')}${[...g.children]
        .map(([name, child]) => `<Group><Name>${xmlText(name)}</Name>${render(child)}</Group>`)
        .join('\n')}`;
    return Buffer.from(
      `<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<KeePassFile><Meta><Generator>KeePass</Generator></Meta><Root><Group><Name>Database</Name>${render(root)}</Group><DeletedObjects /></Root></KeePassFile>\n`,
    );
  },
};

export function bitwardenExport(items: readonly CorpusItem[]): Record<string, unknown> {
  const folders = [...new Set(items.flatMap((i) => (i.folder ? [i.folder] : [])))].map((name, n) => ({
    id: `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`,
    name,
  }));
  const folderId = (name: string | null) => folders.find((f) => f.name === name)?.id ?? null;
  return {
    encrypted: false,
    folders,
    items: items.map((i) => ({
      passwordHistory: null,
      revisionDate: '2026-11-30T10:00:00.000Z',
      creationDate: '2026-11-30T10:00:00.000Z',
      deletedDate: null,
      id: null,
      organizationId: null,
      folderId: folderId(i.folder),
      type: i.type,
      reprompt: 0,
      name: i.name,
      notes: i.notes,
      favorite: i.favorite,
      fields: i.fields.map((f) => ({ name: f.name, value: f.value, type: f.type, linkedId: f.linkedId ?? null })),
      ...(i.login && {
        login: {
          fido2Credentials: [],
          uris: i.login.uris.map((uri, n) => ({ match: n === 0 ? null : 3, uri })),
          username: i.login.username,
          password: i.login.password,
          totp: i.login.totp,
        },
      }),
      ...(i.type === 2 && { secureNote: { type: 0 } }),
      ...(i.card && { card: i.card }),
      ...(i.identity && { identity: i.identity }),
      collectionIds: null,
    })),
  };
}

const BITWARDEN: FormatSpec = {
  loginsOnly: false,
  project: (item) => item,
  write: (items) => Buffer.from(JSON.stringify(bitwardenExport(items), null, 2)),
};

export const FILE_PASSWORD = 'Datei-Passwort «geheim» 🔑';
const BITWARDEN_PROTECTED: FormatSpec = {
  ...BITWARDEN,
  // The clients' default PBKDF2 cost for an export password.
  write: (items) => Buffer.from(bitwardenProtected(bitwardenExport(items), FILE_PASSWORD, 600_000)),
};

const SPECS: Record<FixtureFormat, FormatSpec> = {
  lastpass: LASTPASS,
  chrome: CHROME,
  firefox: FIREFOX,
  safari: SAFARI,
  '1password-csv': ONEPASSWORD_CSV,
  keepass: KEEPASS,
  bitwarden: BITWARDEN,
  'bitwarden-protected': BITWARDEN_PROTECTED,
  '1password-1pux': ONEPUX,
};

/** A `records`-record file of the format, `copies` of them repeats of earlier ones. */
export function formatFixture(format: FixtureFormat, records: number, copies: number): FormatFixture {
  const spec = SPECS[format];
  const items = corpus(records - copies, { loginsOnly: spec.loginsOnly });
  return {
    format,
    file: spec.write(withCopies(items, copies)),
    ...(format === 'bitwarden-protected' ? { filePassword: FILE_PASSWORD } : {}),
    records,
    expected: items.map(spec.project),
    copies,
  };
}
