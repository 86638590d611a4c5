/**
 * Server-side shape check for EncStrings (the server never decrypts them). Accepts the wire types
 * current clients produce: 2 `iv|ct|mac`, 3/4 RSA `ct`, 5/6 legacy RSA `ct|mac`, 7 COSE `ct`.
 * Types 0 and 1 (no or deprecated MAC) are refused, as the official server does.
 */
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function b64Length(part: string): number {
  if (part.length % 4 !== 0 || !B64.test(part)) return -1;
  return (part.length / 4) * 3 - (part.endsWith('==') ? 2 : part.endsWith('=') ? 1 : 0);
}

export function isWellFormedEncString(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 10_000_000) return false;
  if (!/^[0-7]\./.test(value)) return false;
  const dot = 1;
  const type = Number(value[0]);
  const parts = value.slice(dot + 1).split('|');
  const lengths = parts.map(b64Length);
  if (lengths.some((n) => n <= 0)) return false;
  switch (type) {
    case 2:
      return parts.length === 3 && lengths[0] === 16 && lengths[2] === 32 && (lengths[1] ?? 0) % 16 === 0;
    case 3:
    case 4:
    case 7:
      return parts.length === 1;
    case 5:
    case 6:
      return parts.length === 2;
    default:
      return false;
  }
}
