import yauzl from 'yauzl';
import type { FieldType, PlainCipher } from '@keyhaven/vault-crypto';
import { CliError, EXIT } from '../../context';
import { field, loginItem, noteItem, str, text, type ImportedItem, type ParseResult } from '../model';

type Obj = Record<string, unknown>;

/** Reads one member of a zip held in memory (the export never touches the disk decompressed). */
export function readZipEntry(data: Buffer, name: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(data, { lazyEntries: true }, (error, zip) => {
      if (error) {
        reject(new CliError(`not a 1PUX file: ${error.message}`, EXIT.failure));
        return;
      }
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== name) {
          zip.readEntry();
          return;
        }
        zip.openReadStream(entry, (err, stream) => {
          if (err) {
            reject(err);
            return;
          }
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            zip.close();
            resolve(Buffer.concat(chunks));
          });
          stream.on('error', reject);
        });
      });
      zip.on('end', () => {
        reject(new CliError(`not a 1PUX file: no ${name}`, EXIT.failure));
      });
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** A 1Password field value is an object with one member naming its kind: `{ concealed: "…" }`, `{ totp: "…" }`. */
function valueOf(value: unknown): { kind: string; text: string | null } {
  const [kind, v] = Object.entries((value ?? {}) as Obj)[0] ?? ['string', null];
  if (v && typeof v === 'object') {
    // Addresses and the like: their parts on lines.
    return {
      kind,
      text: text(
        Object.values(v as Obj)
          .filter((x) => typeof x === 'string' && x)
          .join('\n'),
      ),
    };
  }
  return { kind, text: text(v) };
}

interface SectionField {
  id: string;
  title: string;
  kind: string;
  value: string | null;
  /** The value as the file has it (an address is an object of parts). */
  raw: unknown;
}

function sectionFields(details: Obj): SectionField[] {
  const sections = Array.isArray(details['sections']) ? (details['sections'] as Obj[]) : [];
  return sections.flatMap((s) =>
    (Array.isArray(s['fields']) ? (s['fields'] as Obj[]) : []).map((f) => {
      const v = valueOf(f['value']);
      const raw = Object.values((f['value'] ?? {}) as Obj)[0];
      return { id: str(f['id']), title: str(f['title']) || str(f['id']), kind: v.kind, value: v.text, raw };
    }),
  );
}

function monthYear(value: string | null): [string | null, string | null] {
  // 1PUX stores a card expiry as the number YYYYMM.
  const m = /^(\d{4})(\d{2})$/.exec(value ?? '');
  return m ? [String(Number(m[2])), m[1] ?? null] : [null, null];
}

const CARD_IDS: Record<string, string> = { cardholder: 'cardholderName', type: 'brand', ccnum: 'number', cvv: 'code' };
const IDENTITY_IDS: Record<string, string> = {
  firstname: 'firstName',
  initial: 'middleName',
  lastname: 'lastName',
  company: 'company',
  email: 'email',
  defphone: 'phone',
  username: 'username',
};

const ADDRESS_PARTS = [
  ['street', 'address1'],
  ['city', 'city'],
  ['state', 'state'],
  ['zip', 'postalCode'],
  ['country', 'country'],
] as const;

function toCipher(item: Obj): PlainCipher {
  const overview = (item['overview'] ?? {}) as Obj;
  const details = (item['details'] ?? {}) as Obj;
  const name = text(overview['title']);
  const notes = text(details['notesPlain']);
  const favorite = typeof item['favIndex'] === 'number' && item['favIndex'] > 0;
  const fields = sectionFields(details);
  const category = str(item['categoryUuid']);
  const custom = (skip: (f: SectionField) => boolean) =>
    fields
      .filter((f) => !skip(f) && f.value !== null)
      .map((f) => field(f.title, f.value, (f.kind === 'concealed' ? 1 : 0) as FieldType));

  if (category === '002') {
    const card: Record<string, string | null> = {};
    for (const f of fields) if (CARD_IDS[f.id]) card[CARD_IDS[f.id] ?? ''] = f.value;
    [card['expMonth'], card['expYear']] = monthYear(fields.find((f) => f.id === 'expiry')?.value ?? null);
    const c: PlainCipher = { type: 3, name: name ?? '--', notes, favorite, card };
    c.fields = custom((f) => f.id in CARD_IDS || f.id === 'expiry');
    return c;
  }
  if (category === '004') {
    const identity: Record<string, string | null> = {};
    for (const f of fields) if (IDENTITY_IDS[f.id]) identity[IDENTITY_IDS[f.id] ?? ''] = f.value;
    // The address is one field of parts; the clients file them into the identity's own address fields.
    const address = fields.find((f) => f.kind === 'address' && f.raw && typeof f.raw === 'object');
    const parts = (address?.raw ?? {}) as Obj;
    for (const [from, to] of ADDRESS_PARTS) if (text(parts[from])) identity[to] = text(parts[from]);
    const c: PlainCipher = { type: 4, name: name ?? '--', notes, favorite, identity };
    c.fields = custom((f) => f.id in IDENTITY_IDS || f === address);
    return c;
  }
  const loginFields = Array.isArray(details['loginFields']) ? (details['loginFields'] as Obj[]) : [];
  const username = loginFields.find((f) => f['designation'] === 'username');
  const password = loginFields.find((f) => f['designation'] === 'password');
  const totp = fields.find((f) => f.kind === 'totp');
  const urls = Array.isArray(overview['urls']) ? (overview['urls'] as Obj[]).map((u) => text(u['url'])) : [];
  if (
    category === '003' ||
    (!username && !password && !text(details['password']) && urls.length === 0 && !overview['url'])
  ) {
    const n = noteItem(name, notes, favorite);
    n.fields = custom(() => false);
    return n;
  }
  return loginItem({
    name,
    username: text(username?.['value']),
    password: text(password?.['value']) ?? text(details['password']),
    totp: totp?.value ?? null,
    uris: [text(overview['url']), ...urls.filter((u) => u !== text(overview['url']))],
    notes,
    favorite,
    fields: custom((f) => f === totp),
  });
}

/** 1Password's 1PUX: a zip whose `export.data` holds accounts → vaults → items; each vault a folder. */
export async function parseOnePux(data: Buffer): Promise<ParseResult> {
  const exported = JSON.parse((await readZipEntry(data, 'export.data')).toString('utf8')) as Obj;
  const items: ImportedItem[] = [];
  const failures: ParseResult['failures'] = [];
  for (const account of (exported['accounts'] ?? []) as Obj[]) {
    for (const vault of (account['vaults'] ?? []) as Obj[]) {
      const folder = text(((vault['attrs'] ?? {}) as Obj)['name']);
      ((vault['items'] ?? []) as Obj[]).forEach((item, i) => {
        if (item['state'] === 'deleted') return;
        try {
          items.push({ cipher: toCipher(item), folder });
        } catch (error) {
          failures.push({
            where: `${folder ?? 'vault'} item ${i + 1}`,
            reason: error instanceof Error ? error.message : String(error),
          });
        }
      });
    }
  }
  return { items, failures };
}
