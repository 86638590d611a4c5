import { sampleLogins } from './import-fixtures';

/**
 * A vault item as the official clients show it after an import: what an export file said, as far as its
 * format can say it. The e2e import suites compare `bw list items` with these, field by field.
 */
export interface CorpusItem {
  type: 1 | 2 | 3 | 4;
  name: string;
  notes: string | null;
  favorite: boolean;
  /** Folder path, nested levels joined with `/`; null for none. */
  folder: string | null;
  login?: { username: string | null; password: string | null; totp: string | null; uris: string[] };
  fields: CorpusField[];
  card?: Record<string, string>;
  identity?: Record<string, string>;
}

export interface CorpusField {
  name: string;
  value: string | null;
  /** 0 text, 1 hidden, 2 boolean, 3 linked. */
  type: 0 | 1 | 2 | 3;
  linkedId?: number;
}

const orNull = (v: string): string | null => (v === '' ? null : v);

export const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * `count` distinct items, deterministic: mostly logins (from sampleLogins: quoting, multi-line notes, Unicode,
 * empty fields, TOTP, nested folders) with custom fields (hidden, boolean, linked, empty), second URIs, spaces
 * around passwords and otpauth URIs; three in every 20 a note, a card and an identity unless `loginsOnly`. Each
 * differs from every other by the duplicate rule, so only deliberate copies are duplicates.
 */
export function corpus(count: number, options: { loginsOnly?: boolean } = {}): CorpusItem[] {
  return sampleLogins(count).map((s, i): CorpusItem => {
    const folder = orNull(s.folder);
    const favorite = i % 7 === 0;
    const kind = options.loginsOnly ? 0 : i % 20;
    if (kind === 17)
      return {
        type: 2,
        name: `Notiz ${i} – Zugang`,
        notes: `Safe combination ${i}\n"left", then right: 12-34\n\nÜberschrift ✓`,
        favorite,
        folder,
        fields: [{ name: 'Ort', value: `Keller ${i}`, type: 0 }],
      };
    if (kind === 18)
      return {
        type: 3,
        name: `Card ${i}`,
        notes: i % 40 === 18 ? 'Sperrnummer: +49 116 116\nnach 22 Uhr' : null,
        favorite,
        folder,
        fields: [],
        card: {
          cardholderName: `Zoë Q. ${i}`,
          brand: ['Visa', 'Mastercard', 'Amex'][i % 3] ?? 'Visa',
          number: `4111${String(i).padStart(12, '0')}`,
          expMonth: String(1 + (i % 12)),
          expYear: String(2027 + (i % 5)),
          code: String(100 + (i % 900)),
        },
      };
    if (kind === 19)
      return {
        type: 4,
        name: `Identität ${i}`,
        notes: i % 40 === 19 ? 'Reisepass im Safe\n«zweite» Zeile' : null,
        favorite,
        folder,
        fields: [],
        identity: {
          title: 'Dr',
          firstName: 'Zoë',
          middleName: 'Ä.',
          lastName: `Quinn-${i}`,
          company: 'Acme, "Inc."',
          address1: `Bahnhofstrasse ${i}`,
          city: 'Zürich',
          state: 'ZH',
          postalCode: '8001',
          country: 'CH',
          email: `zoe${i}@example.com`,
          phone: '+41 44 000 00 00',
          username: `zoe${i}`,
          passportNumber: `X${String(i).padStart(7, '0')}`,
        },
      };
    const fields: CorpusField[] = [];
    if (i % 3 === 0)
      fields.push(
        { name: 'PIN', value: String(1000 + (i % 9000)), type: 1 },
        { name: 'Security question', value: 'Erster Hund? «Bello», "Rex"', type: 0 },
        { name: 'Unused', value: null, type: 0 },
      );
    if (i % 9 === 4) fields.push({ name: 'Recovery codes', value: `a1b2-${i}\nc3d4-${i}`, type: 1 });
    if (i % 11 === 3) fields.push({ name: 'Remember me', value: 'true', type: 2 });
    if (i % 13 === 6) fields.push({ name: 'Login name', value: null, type: 3, linkedId: 100 });
    return {
      type: 1,
      name: s.name,
      notes: orNull(s.notes),
      favorite,
      folder,
      fields,
      login: {
        username: orNull(s.username),
        password: i % 13 === 5 ? `  spaced ${i}  ` : s.password,
        totp:
          i % 10 === 7
            ? `otpauth://totp/Site%20${i}:user${i}%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Site%20${i}`
            : orNull(s.totp),
        uris: s.url ? [s.url, ...(i % 4 === 1 ? [`androidapp://com.example.app${i}`] : [])] : [],
      },
    };
  });
}

/** The file's records: the items, with a copy of `copies` of them spread through (internal duplicates). */
export function withCopies<T>(items: readonly T[], copies: number): T[] {
  const step = Math.max(1, Math.floor(items.length / Math.max(1, copies)));
  const out: T[] = [];
  let made = 0;
  items.forEach((item, i) => {
    out.push(item);
    if (made < copies && i % step === step - 1) {
      out.push(items[i - Math.min(i, 3)] as T);
      made++;
    }
  });
  return out;
}

/** One item as a comparable line (members in a fixed order, empty values dropped from cards and identities). */
export function itemLine(item: CorpusItem): string {
  const compact = (o: Record<string, string | null | undefined> | undefined) =>
    o
      ? Object.entries(o)
          .filter(([, v]) => v !== null && v !== undefined && v !== '')
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      : null;
  const l = item.login;
  return JSON.stringify([
    item.type,
    item.name,
    item.notes,
    item.favorite,
    item.folder,
    l ? [l.username, l.password, l.totp, l.uris] : null,
    item.fields.map((f) => [f.name, f.value, f.type, f.type === 3 ? (f.linkedId ?? null) : null]),
    compact(item.card),
    compact(item.identity),
  ]);
}

/** How one export format writes the corpus and what of it the format keeps. */
export interface FormatSpec {
  /** Only logins: the format has no other item types. */
  readonly loginsOnly: boolean;
  /** What the format keeps of an item (what bw must show after the import). */
  readonly project: (item: CorpusItem) => CorpusItem;
  /** The file, from its records. */
  readonly write: (records: readonly CorpusItem[]) => Buffer;
}

/** Custom fields as the formats without field types keep them: booleans as text, nothing empty, no links. */
export const plainFields = (fields: readonly CorpusField[]): CorpusField[] =>
  fields.flatMap((f) =>
    f.value === null || f.type === 3 ? [] : [{ name: f.name, value: f.value, type: f.type === 2 ? 0 : f.type }],
  );
