import type { FieldType } from '@keyhaven/vault-crypto';
import { field, loginItem, text, type ImportedItem, type ParseResult } from '../model';
import { pick, readCsv } from './csv';

/** Which columns (lower-cased header names, first non-empty wins) hold what, in one browser's or app's CSV. */
interface Columns {
  readonly name: readonly string[];
  readonly url: readonly string[];
  readonly username: readonly string[];
  readonly password: readonly string[];
  readonly notes: readonly string[];
  readonly totp: readonly string[];
  readonly folder: readonly string[];
  /** Columns that are bookkeeping, not data: not kept as custom fields. */
  readonly ignore: readonly string[];
  /** Whether any other column becomes a custom field (1Password's CSV has free-form extra columns). */
  readonly extraAsFields: boolean;
}

const base: Columns = {
  name: ['name', 'title'],
  url: ['url'],
  username: ['username'],
  password: ['password'],
  notes: ['note', 'notes'],
  totp: ['otpauth'],
  folder: [],
  ignore: [],
  extraAsFields: false,
};

export const CHROME: Columns = base;
export const SAFARI: Columns = base;
export const FIREFOX: Columns = {
  ...base,
  ignore: ['httprealm', 'formactionorigin', 'guid', 'timecreated', 'timelastused', 'timepasswordchanged'],
};
export const ONEPASSWORD_CSV: Columns = {
  name: ['title', 'name'],
  url: ['url', 'website', 'login_url', 'urls'],
  username: ['username', 'login_username', 'email'],
  password: ['password', 'login_password'],
  notes: ['notes', 'notesplain', 'note'],
  totp: ['otpauth', 'one-time password', 'one_time_password', 'totp'],
  folder: ['vault', 'folder'],
  ignore: ['type', 'tags', 'favorite', 'archived', 'uuid', 'created', 'modified', 'createdat', 'updatedat'],
  extraAsFields: true,
};

/** A host for the item name when the export has none (Firefox), as the browsers show it. */
function hostOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).hostname || url;
  } catch {
    return url;
  }
}

/** Login-only CSV exports: the browsers' and 1Password's. */
export function parseLoginCsv(data: Buffer, columns: Columns): ParseResult {
  const { rows, failures, headers } = readCsv(data);
  const known = new Set([
    ...columns.name,
    ...columns.url,
    ...columns.username,
    ...columns.password,
    ...columns.notes,
    ...columns.totp,
    ...columns.folder,
    ...columns.ignore,
  ]);
  const items: ImportedItem[] = rows.map(({ values }) => {
    const url = pick(values, columns.url);
    const extras = columns.extraAsFields
      ? Object.entries(values).flatMap(([k, v]) =>
          known.has(k) || !v.trim()
            ? []
            : [field(headers.get(k) ?? k, v, (/password|pin|secret/i.test(k) ? 1 : 0) as FieldType)],
        )
      : [];
    return {
      cipher: loginItem({
        name: text(pick(values, columns.name)) ?? hostOf(url),
        username: text(pick(values, columns.username)),
        password: text(pick(values, columns.password)),
        totp: text(pick(values, columns.totp)),
        uris: [url],
        notes: text(pick(values, columns.notes)),
        favorite: /^(1|true|yes)$/i.test(values['favorite'] ?? ''),
        fields: extras,
      }),
      folder: text(pick(values, columns.folder)),
    };
  });
  return { items, failures };
}
