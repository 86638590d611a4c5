import type { CardData, IdentityData, PlainCipher } from '@keyhaven/vault-crypto';
import { field, loginItem, noteItem, text, type ImportedItem, type ParseResult } from '../model';
import { readCsv } from './csv';

const REQUIRED = ['url', 'username', 'password', 'extra', 'name', 'grouping'];

/** LastPass's `NoteType:` notes are `Key:Value` lines; `Notes:` runs to the end (it may span lines). */
function noteFields(extra: string): Map<string, string> {
  const fields = new Map<string, string>();
  const lines = extra.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    if (key === 'Notes') {
      fields.set(key, [line.slice(colon + 1), ...lines.slice(i + 1)].join('\n'));
      break;
    }
    fields.set(key, line.slice(colon + 1));
  }
  return fields;
}

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

function card(name: string, f: Map<string, string>, favorite: boolean): PlainCipher {
  // "Expiration Date" is "January,2027".
  const [month, year] = (f.get('Expiration Date') ?? '').split(',');
  const monthIndex = MONTHS.indexOf((month ?? '').trim().toLowerCase());
  const data: Partial<CardData> = {
    cardholderName: text(f.get('Name on Card')),
    brand: text(f.get('Type')),
    number: text(f.get('Number')),
    code: text(f.get('Security Code')),
    expMonth: monthIndex >= 0 ? String(monthIndex + 1) : null,
    expYear: text(year?.trim()),
  };
  return { type: 3, name, notes: text(f.get('Notes')), favorite, card: data };
}

function identity(name: string, f: Map<string, string>, favorite: boolean): PlainCipher {
  const data: Partial<IdentityData> = {
    title: text(f.get('Title')),
    firstName: text(f.get('First Name')),
    middleName: text(f.get('Middle Name')),
    lastName: text(f.get('Last Name')),
    company: text(f.get('Company')),
    address1: text(f.get('Address 1')),
    address2: text(f.get('Address 2')),
    address3: text(f.get('Address 3')),
    city: text(f.get('City / Town')),
    state: text(f.get('State')),
    postalCode: text(f.get('Zip / Postal Code')),
    country: text(f.get('Country')),
    email: text(f.get('Email Address')),
    phone: text(f.get('Phone')),
    username: text(f.get('Username')),
  };
  return { type: 4, name, notes: text(f.get('Notes')), favorite, identity: data };
}

function secureNote(name: string, extra: string | null, favorite: boolean): PlainCipher {
  if (!extra?.startsWith('NoteType:')) return noteItem(name, extra, favorite);
  const f = noteFields(extra);
  const kind = f.get('NoteType');
  if (kind === 'Credit Card') return card(name, f, favorite);
  if (kind === 'Address') return identity(name, f, favorite);
  // Other note types: each line a custom field, so nothing is lost.
  const note = noteItem(name, text(f.get('Notes')), favorite);
  note.fields = [...f].filter(([k]) => k !== 'Notes' && k !== 'NoteType').map(([k, v]) => field(k, text(v)));
  return note;
}

/** LastPass CSV: `url,username,password,totp,extra,name,grouping,fav`; `http://sn` rows are secure notes. */
export function parseLastPass(data: Buffer): ParseResult {
  const { rows, failures } = readCsv(data);
  const items: ImportedItem[] = [];
  for (const { line, values } of rows) {
    const missing = REQUIRED.filter((c) => values[c] === undefined);
    if (missing.length > 0) {
      failures.push({ where: `line ${line}`, reason: `not a LastPass export row (no ${missing.join(', ')} column)` });
      continue;
    }
    const name = text(values['name']) ?? '--';
    const favorite = values['fav'] === '1';
    const grouping = text(values['grouping']);
    const folder = grouping && grouping !== '(none)' ? grouping.replace(/\\/g, '/') : null;
    const cipher =
      values['url'] === 'http://sn'
        ? secureNote(name, text(values['extra']), favorite)
        : loginItem({
            name,
            username: text(values['username']),
            password: text(values['password']),
            totp: text(values['totp']),
            uris: [text(values['url'])],
            notes: text(values['extra']),
            favorite,
          });
    items.push({ cipher, folder });
  }
  return { items, failures };
}
