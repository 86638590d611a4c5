/**
 * Vaultwarden's WebAuthn two-step keys → Keyhaven's `webauthn_credential` rows. Vaultwarden keeps, per user, one
 * `twofactor` row (atype 7) whose data is a JSON list of `{ id, name, migrated, credential }`, the credential being
 * webauthn-rs's serialized Passkey: `{ cred: { cred_id, cred: { type_, key }, counter, transports, … } }` (older
 * versions: the Credential without the `cred` wrapper, byte fields as number arrays instead of base64url).
 * Keyhaven keeps what @simplewebauthn verifies with: the credential id (base64url) and the COSE public key.
 */
import type { WebAuthnCredentialRow } from '@keyhaven/domain-auth';

export interface RefusedKey {
  readonly slot: number | null;
  readonly name: string;
  readonly reason: string;
}

type Json = Record<string, unknown>;

/** COSE algorithm numbers (RFC 9053, IANA) of webauthn-rs's COSEAlgorithm names. */
const ALGORITHMS: Record<string, number> = {
  ES256: -7,
  ES384: -35,
  ES512: -36,
  EDDSA: -8,
  RS256: -257,
  RS384: -258,
  RS512: -259,
  PS256: -37,
  PS384: -38,
  PS512: -39,
};
/** COSE curve numbers of webauthn-rs's ECDSACurve and EDDSACurve names. */
const CURVES: Record<string, number> = { SECP256R1: 1, SECP384R1: 2, SECP521R1: 3, ED25519: 6, ED448: 7 };

/** webauthn-rs writes bytes as base64url text (0.5) or as an array of numbers (older); null when neither. */
export function bytesOf(value: unknown): Buffer | null {
  if (typeof value === 'string')
    return /^[A-Za-z0-9_\-+/]*={0,2}$/.test(value) ? Buffer.from(value, 'base64url') : null;
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) < 256))
    return Buffer.from(value as number[]);
  return null;
}

/** The CBOR head of a major type with an argument (RFC 8949 §3). */
function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

/** A COSE_Key: a CBOR map of small integer labels to integers or byte strings, in the order given. */
function coseKey(entries: [number, number | Buffer][]): Buffer {
  const item = (v: number | Buffer): Buffer =>
    Buffer.isBuffer(v) ? Buffer.concat([head(2, v.length), v]) : v >= 0 ? head(0, v) : head(1, -1 - v);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [item(k), item(v)])]);
}

/** webauthn-rs's COSEKey (`{ type_, key: { EC_EC2 | EC_OKP | RSA: … } }`) as COSE_Key bytes, or why not. */
export function coseFromWebauthnRs(cose: unknown): Buffer | string {
  const c = (cose ?? {}) as Json;
  const alg = ALGORITHMS[String(c['type_'])];
  if (alg === undefined) return `an unsupported key algorithm (${String(c['type_'])})`;
  const key = (c['key'] ?? {}) as Json;
  const ec2 = key['EC_EC2'] as Json | undefined;
  const okp = key['EC_OKP'] as Json | undefined;
  const rsa = key['RSA'] as Json | undefined;
  if (ec2) {
    const crv = CURVES[String(ec2['curve'])];
    const [x, y] = [bytesOf(ec2['x']), bytesOf(ec2['y'])];
    if (crv === undefined || !x || !y) return 'an EC2 key without a known curve or coordinates';
    return coseKey([
      [1, 2],
      [3, alg],
      [-1, crv],
      [-2, x],
      [-3, y],
    ]);
  }
  if (okp) {
    const crv = CURVES[String(okp['curve'])];
    const x = bytesOf(okp['x']);
    if (crv === undefined || !x) return 'an OKP key without a known curve or public key';
    return coseKey([
      [1, 1],
      [3, alg],
      [-1, crv],
      [-2, x],
    ]);
  }
  if (rsa) {
    const [n, e] = [bytesOf(rsa['n']), bytesOf(rsa['e'])];
    if (!n || !e) return 'an RSA key without its modulus or exponent';
    return coseKey([
      [1, 3],
      [3, alg],
      [-1, n],
      [-2, e],
    ]);
  }
  return 'a key type Keyhaven does not know';
}

/** Every registration of one Vaultwarden WebAuthn setting, converted or refused with the reason. */
export function convertWebAuthnKeys(data: unknown): { keys: WebAuthnCredentialRow[]; refused: RefusedKey[] } {
  const keys: WebAuthnCredentialRow[] = [];
  const refused: RefusedKey[] = [];
  if (!Array.isArray(data)) return { keys, refused: [{ slot: null, name: '', reason: 'unreadable WebAuthn data' }] };
  for (const entry of data as Json[]) {
    const slot = Number.isInteger(entry['id']) ? (entry['id'] as number) : null;
    const name = typeof entry['name'] === 'string' ? entry['name'] : '';
    const outer = (entry['credential'] ?? {}) as Json;
    // 0.5's Passkey wraps the Credential in `cred`; an older Credential is the object itself.
    const credential = (typeof outer['cred_id'] === 'undefined' ? outer['cred'] : outer) as Json | undefined;
    const id = bytesOf(credential?.['cred_id']);
    if (slot === null || !credential || !id || id.length === 0) {
      refused.push({ slot, name, reason: 'a WebAuthn registration without a slot or credential id' });
      continue;
    }
    const cose = coseFromWebauthnRs(credential['cred']);
    if (typeof cose === 'string') {
      refused.push({ slot, name, reason: `a WebAuthn key with ${cose}` });
      continue;
    }
    const transports = Array.isArray(credential['transports'])
      ? (credential['transports'] as unknown[]).filter((t): t is string => typeof t === 'string')
      : [];
    keys.push({
      slot,
      name: name.slice(0, 50),
      credentialId: id.toString('base64url'),
      publicKey: cose.toString('base64url'),
      signCount: Number(credential['counter']) || 0,
      transports: transports.map((t) => t.toLowerCase()),
    });
  }
  return { keys, refused };
}
