import { z } from 'zod';
import { badRequest } from './errors';

/**
 * What the database can hold, decided at the edge (ARCHITECTURE §6 "Limits at the edge"). Every JSON
 * body is walked once by the HTTP layer (`assertStorableJson`); the request schemas use the range
 * helpers below for the columns they write, so no value the store would refuse reaches it.
 */

/**
 * Deepest nesting any JSON body may have: Bitwarden's own shapes need about seven levels, and a
 * wrapped item (an import, a share) may add its unknown fields' MAX_UNKNOWN_FIELD_DEPTH on top.
 */
export const MAX_JSON_DEPTH = 64;

/** Deepest nesting of one unknown field an item keeps for newer clients (the value itself is level 1). */
export const MAX_UNKNOWN_FIELD_DEPTH = 32;

/** Characters of unknown fields (kept for newer clients) one item may carry, all levels together. */
export const MAX_UNKNOWN_FIELD_CHARS = 256 * 1024;

/** PostgreSQL `smallint` and `integer`. */
export const SMALLINT_MAX = 32_767;
export const INT32_MAX = 2_147_483_647;

/** Dates the store keeps: years 1–9999 (PostgreSQL's timestamptz and the clients' .NET DateTime both hold them). */
const MIN_DATE_MS = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_DATE_MS = Date.parse('9999-12-31T23:59:59.999Z');

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export type TextFault = 'nul' | 'surrogate';

/** Why PostgreSQL could not store this text (NUL in `text`, a lone UTF-16 surrogate in `jsonb`), or null. */
export function textFault(value: string): TextFault | null {
  if (value.includes('\0')) return 'nul';
  if (LONE_SURROGATE.test(value)) return 'surrogate';
  return null;
}

export function isStorableText(value: string): boolean {
  return textFault(value) === null;
}

const TEXT_FAULT_MESSAGE: Record<TextFault, string> = {
  nul: 'Text may not contain NUL characters.',
  surrogate: 'Text must be valid Unicode (no lone surrogates).',
};

export interface JsonFault {
  readonly kind: TextFault | 'depth';
  /** Dotted path of the offending value (`ciphers.3.login`), `body` for the top level. */
  readonly path: string;
}

interface Frame {
  readonly value: unknown;
  readonly depth: number;
  readonly parent: Frame | null;
  readonly key: string;
}

function pathOf(frame: Frame | null, key?: string): string {
  const parts: string[] = key === undefined ? [] : [key];
  for (let f = frame; f && f.parent; f = f.parent) parts.push(f.key);
  return parts.length ? parts.reverse().join('.') : 'body';
}

/**
 * The first thing in a parsed JSON value the store cannot hold: nesting deeper than `maxDepth`, or a
 * string (value or key) with NUL or a lone surrogate. One iterative walk, so any depth is safe to inspect.
 */
export function findJsonFault(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonFault | null {
  const stack: Frame[] = [{ value, depth: 0, parent: null, key: '' }];
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    const v = frame.value;
    if (typeof v === 'string') {
      const fault = textFault(v);
      if (fault) return { kind: fault, path: pathOf(frame) };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    const depth = frame.depth + 1;
    if (depth > maxDepth) return { kind: 'depth', path: pathOf(frame) };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth, parent: frame, key: String(i) });
      continue;
    }
    for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
      const fault = textFault(key);
      if (fault) return { kind: fault, path: pathOf(frame, '(key)') };
      stack.push({ value: child, depth, parent: frame, key });
    }
  }
  return null;
}

/** A 400 in Bitwarden's shape when a parsed body holds something the store cannot (see findJsonFault). */
export function assertStorableJson(value: unknown, maxDepth = MAX_JSON_DEPTH): void {
  const fault = findJsonFault(value, maxDepth);
  if (!fault) return;
  const message =
    fault.kind === 'depth'
      ? `Values may not be nested more than ${maxDepth} levels deep.`
      : TEXT_FAULT_MESSAGE[fault.kind];
  throw badRequest(`${fault.path}: ${message}`, { [fault.path]: [message] });
}

/** A 400 when a string from a header, path or query cannot be stored (NUL, lone surrogate). */
export function assertStorableText(value: string, name: string): void {
  const fault = textFault(value);
  if (!fault) return;
  throw badRequest(`${name}: ${TEXT_FAULT_MESSAGE[fault]}`, { [name]: [TEXT_FAULT_MESSAGE[fault]] });
}

/** Characters of a value as JSON; 0 for what JSON has no form for (undefined, functions). */
function jsonLength(value: unknown): number {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? 0 : text.length;
}

/**
 * Characters the keys of `value` outside `known` take as JSON (the key, and its value serialised).
 * Run on bodies the HTTP layer has already bounded in depth.
 */
export function unknownFieldChars(value: unknown, known: ReadonlySet<string>): number {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 0;
  let total = 0;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (known.has(key) || child === undefined) continue;
    total += key.length + 3 + jsonLength(child);
  }
  return total;
}

/** Levels of nesting of a JSON value (a scalar is 0, `{}` and `[]` are 1); iterative, so any depth is safe. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  for (let entry = stack.pop(); entry; entry = stack.pop()) {
    const [v, depth] = entry;
    if (typeof v !== 'object' || v === null) continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    for (const child of Array.isArray(v) ? (v as unknown[]) : Object.values(v as Record<string, unknown>)) {
      if (typeof child === 'object' && child !== null) stack.push([child, here]);
    }
  }
  return deepest;
}

/** The deepest of the values of `value`'s keys outside `known` (see jsonDepth). */
export function unknownFieldDepth(value: unknown, known: ReadonlySet<string>): number {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 0;
  let deepest = 0;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (!known.has(key)) deepest = Math.max(deepest, jsonDepth(child));
  }
  return deepest;
}

/** An integer the columns of that type hold; `min`/`max` narrow it to the domain's range. */
export const smallint = (min = -SMALLINT_MAX - 1, max = SMALLINT_MAX): z.ZodNumber =>
  z
    .number()
    .int()
    .min(Math.max(min, -SMALLINT_MAX - 1))
    .max(Math.min(max, SMALLINT_MAX));

export const int32 = (min = -INT32_MAX - 1, max = INT32_MAX): z.ZodNumber =>
  z
    .number()
    .int()
    .min(Math.max(min, -INT32_MAX - 1))
    .max(Math.min(max, INT32_MAX));

export function isSmallint(value: number): boolean {
  return Number.isInteger(value) && value >= -SMALLINT_MAX - 1 && value <= SMALLINT_MAX;
}

/** A Date the store keeps (years 1–9999). */
export function isStorableDate(date: Date): boolean {
  const ms = date.getTime();
  return !Number.isNaN(ms) && ms >= MIN_DATE_MS && ms <= MAX_DATE_MS;
}

/** An ISO-8601 date string the store keeps (years 1–9999); the value stays a string. */
export const isoDate = z
  .string()
  .max(64)
  .refine((v) => isStorableDate(new Date(v)), { message: 'must be a date between the years 1 and 9999' });

/** Characters an opaque JSON object of a request (policy data, custom permissions) may take. */
export const MAX_OPAQUE_OBJECT_CHARS = 64 * 1024;

/** An opaque JSON object the server stores as sent, bounded in size (depth is bounded for every body). */
export const opaqueJsonObject = (maxChars = MAX_OPAQUE_OBJECT_CHARS) =>
  z.record(z.string(), z.unknown()).refine((value) => jsonLength(value) <= maxChars, {
    message: `may take at most ${maxChars} characters`,
  });

/**
 * A client's device type (Bitwarden's DeviceType numbers, a `smallint` column) from a token form:
 * absent gives `fallback`; anything but an integer from 0 to 32767 is a 400.
 */
export function parseDeviceType(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const type = Number(raw);
  if (!Number.isInteger(type) || type < 0 || type > SMALLINT_MAX) {
    throw badRequest('deviceType must be a device type number.', { deviceType: ['Must be a device type number.'] });
  }
  return type;
}
