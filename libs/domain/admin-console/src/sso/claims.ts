/**
 * Claim precedence of ENTERPRISE.md §1.5, shared by the protocol adapters: configured claim types
 * first, then the usual names. Claim names compare without case and without non-letters
 * (`preferred_username` = `PreferredUsername`).
 */
const normalize = (name: string): string =>
  // OID-named SAML attributes (`urn:oid:0.9.2342.19200300.100.1.3`) differ only in their digits: compared whole.
  /^urn:oid:/i.test(name) ? name.toLowerCase() : name.replace(/[^a-z]/gi, '').toLowerCase();

export const csv = (value: string | null | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

function lookup(claims: Readonly<Record<string, unknown>>, names: readonly string[]): unknown[] {
  const index = new Map<string, unknown>();
  for (const [key, value] of Object.entries(claims)) {
    const n = normalize(key);
    if (!index.has(n)) index.set(n, value);
    // SAML attribute names are URIs: index their last segment too.
    const tail = /[/#:]([^/#:]+)$/.exec(key)?.[1];
    if (tail && normalize(tail) && !index.has(normalize(tail))) index.set(normalize(tail), value);
  }
  return names.map((name) => index.get(normalize(name)));
}

const asStrings = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.filter((v): v is string => typeof v === 'string')
    : typeof value === 'string'
      ? [value]
      : typeof value === 'number'
        ? [String(value)]
        : [];

const first = (claims: Readonly<Record<string, unknown>>, names: readonly string[], accept = (_: string) => true) =>
  lookup(claims, names)
    .flatMap(asStrings)
    .find((v) => v.trim() !== '' && accept(v)) ?? null;

export function subjectOf(
  claims: Readonly<Record<string, unknown>>,
  additional: string | null | undefined,
): string | null {
  return first(claims, [
    ...csv(additional),
    'sub',
    'nameidentifier',
    'uid',
    'urn:oid:0.9.2342.19200300.100.1.1',
    'upn',
    'eppn',
    'urn:oid:1.3.6.1.4.1.5923.1.1.1.6',
  ]);
}

export function emailOf(
  claims: Readonly<Record<string, unknown>>,
  additional: string | null | undefined,
  subject: string,
): string | null {
  const names = [
    ...csv(additional),
    'email',
    'emailaddress',
    'urn:oid:0.9.2342.19200300.100.1.3',
    'mail',
    'preferred_username',
    'urn:oid:0.9.2342.19200300.100.1.1',
    'uid',
  ];
  const found = first(claims, names, (v) => v.includes('@'));
  return found ?? (subject.includes('@') ? subject : null);
}

export function nameOf(
  claims: Readonly<Record<string, unknown>>,
  additional: string | null | undefined,
): string | null {
  const direct = first(claims, [
    ...csv(additional),
    'name',
    'displayname',
    'urn:oid:2.16.840.1.113730.3.1.241',
    'cn',
    'urn:oid:2.5.4.3',
  ]);
  if (direct) return direct;
  const given = first(claims, ['given_name', 'givenname', 'urn:oid:2.5.4.42']);
  const family = first(claims, ['family_name', 'surname', 'sn', 'urn:oid:2.5.4.4']);
  const joined = [given, family].filter(Boolean).join(' ');
  return joined || null;
}

export function groupsOf(claims: Readonly<Record<string, unknown>>, claimType: string | null | undefined): string[] {
  if (!claimType) return [];
  return lookup(claims, [claimType]).flatMap(asStrings);
}
