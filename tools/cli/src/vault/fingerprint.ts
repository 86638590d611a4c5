import { createHash } from 'node:crypto';

/** The parts of an item (plaintext, from a file or decrypted from the vault) that decide whether two are the same. */
export interface Comparable {
  type: number;
  name?: string | null;
  notes?: string | null;
  login?: {
    username?: string | null;
    password?: string | null;
    totp?: string | null;
    uris?: { uri: string | null }[] | null;
  } | null;
  card?: Partial<Record<string, string | null>> | null;
  identity?: Partial<Record<string, string | null>> | null;
  sshKey?: Partial<Record<string, string | null>> | null;
}

/**
 * A URI reduced to what can differ without changing where it leads: scheme and host lower-cased, a default
 * port and trailing slashes dropped (`www.` is kept: it can be another site). A URI without a scheme is read
 * as https, as the clients launch it.
 */
export function normaliseUri(raw: string): string {
  const trimmed = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(trimmed) ? trimmed : `https://${trimmed}`;
  try {
    const url = new URL(withScheme);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return trimmed.toLowerCase();
    const path = url.pathname.replace(/\/+$/, '');
    return `${url.protocol}//${url.host}${path}${url.search}${url.hash}`;
  } catch {
    return trimmed.toLowerCase();
  }
}

const norm = (v: string | null | undefined): string => (v ?? '').trim();

function userAndSecret(item: Comparable): [string, string] {
  switch (item.type) {
    case 1:
      return [norm(item.login?.username), `${norm(item.login?.password)}\u0000${norm(item.login?.totp)}`];
    case 3:
      return [norm(item.card?.['cardholderName']), `${norm(item.card?.['number'])}\u0000${norm(item.card?.['code'])}`];
    case 4: {
      const identity = item.identity ?? {};
      // Only the filled-in fields: a file names some of them, the same item decrypted from the vault all of
      // them (the empty ones null), and the two must compare equal.
      const all = Object.keys(identity)
        .filter((k) => norm(identity[k]) !== '')
        .sort()
        .map((k) => `${k}=${norm(identity[k])}`)
        .join('\u0000');
      return [norm(identity['username'] ?? identity['email']), all];
    }
    case 5:
      return ['', norm(item.sshKey?.['privateKey'])];
    default:
      return ['', norm(item.notes)];
  }
}

/**
 * The duplicate rule: same type, name, username, normalised URIs (as a set) and secret (a login's password and
 * TOTP, a card's number and code, a note's text, an identity's fields, an SSH private key). A hash, so the
 * set of fingerprints held in memory is not the vault in plaintext a second time.
 */
export function fingerprint(item: Comparable): string {
  const [username, secret] = userAndSecret(item);
  const uris =
    item.type === 1
      ? [...new Set((item.login?.uris ?? []).flatMap((u) => (u.uri ? [normaliseUri(u.uri)] : [])))].sort()
      : [];
  return createHash('sha256')
    .update(JSON.stringify([item.type, norm(item.name), username, uris, secret]))
    .digest('base64');
}
