import { XMLParser } from 'fast-xml-parser';
import { CliError, EXIT } from '../../context';
import { field, loginItem, str, text, type ImportedItem, type ParseResult } from '../model';

type Obj = Record<string, unknown>;

const STANDARD = new Set(['Title', 'UserName', 'Password', 'URL', 'Notes', 'otp', 'TimeOtp-Secret-Base32']);

function stringValue(value: unknown): { value: string | null; protectedValue: boolean } {
  if (value && typeof value === 'object') {
    const o = value as Obj;
    return { value: text(o['#text']), protectedValue: str(o['@_ProtectInMemory']) === 'True' };
  }
  return { value: text(value), protectedValue: false };
}

function entry(e: Obj): ImportedItem['cipher'] {
  const strings = new Map<string, { value: string | null; protectedValue: boolean }>();
  for (const s of (e['String'] ?? []) as Obj[]) strings.set(str(s['Key']), stringValue(s['Value']));
  const get = (k: string): string | null => strings.get(k)?.value ?? null;
  const extras = [...strings]
    .filter(([k, v]) => !STANDARD.has(k) && v.value !== null)
    .map(([k, v]) => field(k, v.value, v.protectedValue ? 1 : 0));
  return loginItem({
    name: get('Title'),
    username: get('UserName'),
    password: get('Password'),
    totp: get('otp') ?? get('TimeOtp-Secret-Base32'),
    uris: [get('URL')],
    notes: get('Notes'),
    fields: extras,
  });
}

/** KeePass 2 XML (unencrypted export): groups become folders by path, the root group itself not included. */
export function parseKeePass(data: Buffer): ParseResult {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    trimValues: false,
    isArray: (name) => name === 'Group' || name === 'Entry' || name === 'String',
  });
  const doc = parser.parse(data.toString('utf8')) as Obj;
  const root = ((doc['KeePassFile'] as Obj | undefined)?.['Root'] as Obj | undefined)?.['Group'] as Obj[] | undefined;
  if (!root) throw new CliError('not a KeePass 2 XML file: no KeePassFile/Root/Group', EXIT.failure);
  const items: ImportedItem[] = [];
  const failures: ParseResult['failures'] = [];
  const walk = (group: Obj, path: string[]): void => {
    ((group['Entry'] ?? []) as Obj[]).forEach((e, i) => {
      try {
        items.push({ cipher: entry(e), folder: path.length > 0 ? path.join('/') : null });
      } catch (error) {
        failures.push({ where: `${path.join('/') || 'root'} entry ${i + 1}`, reason: String(error) });
      }
    });
    for (const child of (group['Group'] ?? []) as Obj[]) walk(child, [...path, str(child['Name'])]);
  };
  for (const top of root) walk(top, []);
  return { items, failures };
}
