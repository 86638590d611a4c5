import type { FieldType, PlainCipher } from '@keyhaven/vault-crypto';

/** One item read from an export file, in plaintext (held in memory only), with the folder path it was filed under. */
export interface ImportedItem {
  readonly cipher: PlainCipher;
  /** Folder (or, with --org, collection) path, nested levels joined with `/`; null for none. */
  readonly folder: string | null;
}

/** A record the file has but that could not be read, with where it is (row or item) and why. */
export interface ImportFailure {
  readonly where: string;
  readonly reason: string;
}

export interface ParseResult {
  readonly items: ImportedItem[];
  readonly failures: ImportFailure[];
}

export const FORMATS = [
  'lastpass',
  'bitwarden',
  '1password-1pux',
  '1password-csv',
  'keepass',
  'chrome',
  'firefox',
  'safari',
] as const;
export type ImportFormat = (typeof FORMATS)[number];

export function isImportFormat(value: string): value is ImportFormat {
  return (FORMATS as readonly string[]).includes(value);
}

/** A string member of parsed JSON or XML, '' for anything else. */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** '' and whitespace-only become null, as the clients send empty fields. */
export function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const s = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
  return s.trim() === '' ? null : s;
}

export function field(
  name: string,
  value: string | null,
  type: FieldType = 0,
): { type: FieldType; name: string; value: string | null } {
  return { type, name, value };
}

/** A login, with its URIs split and empty parts dropped. */
export function loginItem(parts: {
  name: string | null;
  username?: string | null;
  password?: string | null;
  totp?: string | null;
  uris?: (string | null)[];
  notes?: string | null;
  favorite?: boolean;
  fields?: { type: FieldType; name: string; value: string | null }[];
}): PlainCipher {
  const uris = (parts.uris ?? []).flatMap((u) => (u && u.trim() ? [{ uri: u.trim() }] : []));
  return {
    type: 1,
    name: parts.name ?? uris[0]?.uri ?? '--',
    notes: parts.notes ?? null,
    favorite: parts.favorite ?? false,
    fields: parts.fields && parts.fields.length > 0 ? parts.fields : null,
    login: {
      username: parts.username ?? null,
      password: parts.password ?? null,
      totp: parts.totp ?? null,
      uris: uris.length > 0 ? uris : null,
    },
  };
}

export function noteItem(name: string | null, notes: string | null, favorite = false): PlainCipher {
  return { type: 2, name: name ?? '--', notes, favorite, secureNote: { type: 0 } };
}
