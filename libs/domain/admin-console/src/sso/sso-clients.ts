/**
 * Bitwarden's application clients and the redirect URIs each may use (ENTERPRISE.md §1.3), matched
 * exactly. `vault` is the web vault's origin (Keyhaven's DOMAIN).
 */
const loopback = ['8065', '8066', '8067', '8068', '8069', '8070'].map((port) => `http://localhost:${port}`);

export function allowedRedirectUris(clientId: string, vault: string): readonly string[] {
  switch (clientId) {
    case 'web':
    case 'browser':
      return [`${vault}/sso-connector.html`];
    case 'desktop':
      return ['bitwarden://sso-callback', ...loopback];
    case 'cli':
      return loopback;
    case 'mobile':
      return ['bitwarden://sso-callback'];
    case 'connector':
      return [...loopback, 'bwdc://sso-callback'];
    default:
      return [];
  }
}

/** Native redirect URIs (not http/https) get an HTML hand-off instead of a 302. */
export const isNativeRedirect = (uri: string): boolean => !/^https?:\/\//i.test(uri);

/** Parses a raw query string the way the clients build it: split at the first `=`, `state` kept raw. */
export function parseRawQuery(raw: string): { decoded: Map<string, string>; raw: Map<string, string> } {
  const decoded = new Map<string, string>();
  const rawValues = new Map<string, string>();
  for (const part of raw.split('&')) {
    if (!part) continue;
    const at = part.indexOf('=');
    const key = safeDecode(at < 0 ? part : part.slice(0, at));
    const value = at < 0 ? '' : part.slice(at + 1);
    if (key === null || decoded.has(key)) continue;
    const text = safeDecode(value.replace(/\+/g, ' '));
    if (text === null) continue;
    decoded.set(key, text);
    rawValues.set(key, value);
  }
  return { decoded, raw: rawValues };
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
