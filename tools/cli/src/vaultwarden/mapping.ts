/**
 * Vaultwarden rows → Keyhaven rows, as pure functions. Encrypted strings are copied as they are: nothing is
 * decrypted, so the move keeps zero knowledge and every client key still opens every item.
 */

/** Vaultwarden's `timestamp` text (naive UTC, `2026-01-02 03:04:05.123456`) as an ISO instant. */
export function utc(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== 'string') return null;
  const text = value.trim().replace(' ', 'T');
  return /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`;
}

/** SQLite answers 0/1, PostgreSQL booleans. */
export function bool(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}

function parse(text: unknown): unknown {
  if (typeof text !== 'string' || text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * Older Vaultwarden versions stored the clients' PascalCase JSON; its own reader lower-cases the first letter of
 * every key (LowerCase<Value>), and so does this.
 */
export function lowerKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(lowerKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k.charAt(0).toLowerCase() + k.slice(1),
      lowerKeys(v),
    ]),
  );
}

const TYPE_KEYS: Record<number, string> = { 1: 'login', 2: 'secureNote', 3: 'card', 4: 'identity', 5: 'sshKey' };

export interface VwCipher {
  uuid: string;
  created_at: string;
  updated_at: string;
  user_uuid: string | null;
  organization_uuid: string | null;
  key: string | null;
  atype: number;
  name: string;
  notes: string | null;
  fields: string | null;
  data: string;
  password_history: string | null;
  deleted_at: string | null;
  reprompt: number | null;
}

/**
 * The `cipher.data` Keyhaven keeps (the client's request minus the server's own fields): name, notes, fields,
 * password history and the type's object, as Vaultwarden's own `to_json` rebuilds them from its columns.
 */
export function cipherData(c: VwCipher): Record<string, unknown> {
  // Without the copies of the top-level fields and the legacy single `uri` an old Vaultwarden kept in the type data.
  const typed = Object.fromEntries(
    Object.entries((lowerKeys(parse(c.data)) ?? {}) as Record<string, unknown>).filter(
      ([k]) => !['name', 'notes', 'fields', 'passwordHistory', 'uri'].includes(k),
    ),
  );
  if (c.atype === 1 && Array.isArray(typed['uris'])) {
    typed['uris'] = (typed['uris'] as Record<string, unknown>[]).map((u) => {
      const match = u['match'];
      return typeof match === 'string' ? { ...u, match: /^\d+$/.test(match) ? Number(match) : null } : u;
    });
  }
  if (c.atype === 2 && typeof typed['type'] !== 'number') typed['type'] = 0;
  const fields = lowerKeys(parse(c.fields));
  const history = lowerKeys(parse(c.password_history));
  const data: Record<string, unknown> = {
    name: c.name,
    notes: c.notes ?? null,
    fields: Array.isArray(fields)
      ? (fields as Record<string, unknown>[]).map((f) => ({
          ...f,
          type: typeof f['type'] === 'number' ? f['type'] : Number.parseInt(String(f['type']), 10) || 1,
        }))
      : null,
    passwordHistory: Array.isArray(history)
      ? (history as Record<string, unknown>[]).filter((h) => typeof h['password'] === 'string')
      : null,
  };
  const key = TYPE_KEYS[c.atype];
  if (key) data[key] = typed;
  return data;
}

/** Vaultwarden's membership types: Owner 0, Admin 1, User 2, Manager 3 (Bitwarden's: Custom 4, no Manager). */
export function memberType(atype: number): { type: number; managesAssigned: boolean } {
  if (atype === 3) return { type: 2, managesAssigned: true };
  return { type: [0, 1, 2, 4].includes(atype) ? atype : 2, managesAssigned: false };
}

/** Vaultwarden's org policy `data` is JSON text; Keyhaven keeps jsonb (null when empty). */
export function policyData(text: unknown): unknown {
  const parsed = parse(text);
  return parsed === null ? null : lowerKeys(parsed);
}

export { parse as parseJson };
