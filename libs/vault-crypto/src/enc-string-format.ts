// Wire format of Bitwarden EncStrings: `<type>.<b64 piece>|<b64 piece>...`.
// Pure string/Buffer logic (no node:crypto) so the server can validate request fields with the same rules.

export const EncStringType = {
  AesCbc256_B64: 0,
  AesCbc128_HmacSha256_B64: 1,
  AesCbc256_HmacSha256_B64: 2,
  Rsa2048_OaepSha256_B64: 3,
  Rsa2048_OaepSha1_B64: 4,
  Rsa2048_OaepSha256_HmacSha256_B64: 5,
  Rsa2048_OaepSha1_HmacSha256_B64: 6,
  CoseEncrypt0_B64: 7,
} as const;
export type EncStringType = (typeof EncStringType)[keyof typeof EncStringType];

/**
 * The types the official server accepts in `[EncryptedString]` fields. Type 1 (AES-128) was removed from its
 * enum, so it is recognised by the parser but not accepted by default.
 */
export const ACCEPTED_ENC_STRING_TYPES: readonly EncStringType[] = [0, 2, 3, 4, 5, 6, 7];

export interface ParsedEncString {
  type: EncStringType;
  /** AES IV (types 0–2), else null. */
  iv: Buffer | null;
  /** Ciphertext: AES-CBC, RSA-OAEP or COSE bytes. */
  data: Buffer;
  /** HMAC-SHA256 tag (types 1, 2, 5, 6), else null. */
  mac: Buffer | null;
}

export class EncStringFormatError extends Error {
  override readonly name = 'EncStringFormatError';
}

type Piece = 'iv' | 'data' | 'mac';
const IV_BYTES = 16;
const MAC_BYTES = 32; // HMAC-SHA256
const AES_BLOCK_BYTES = 16;

/** The pieces each type carries, in wire order. */
const LAYOUTS: Record<EncStringType, readonly Piece[]> = {
  0: ['iv', 'data'],
  1: ['iv', 'data', 'mac'],
  2: ['iv', 'data', 'mac'],
  3: ['data'],
  4: ['data'],
  5: ['data', 'mac'],
  6: ['data', 'mac'],
  7: ['data'],
};

const EXPECTED_BYTES: Record<Piece, number | null> = { iv: IV_BYTES, data: null, mac: MAC_BYTES };

// Standard alphabet, padded to a multiple of 4. Non-zero trailing bits in the last symbol are tolerated, as the
// official server does, because some stored data has them and they decode unambiguously.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64Piece(piece: string): Buffer {
  if (piece.length === 0 || !BASE64.test(piece)) throw new EncStringFormatError('piece is not valid base64');
  return Buffer.from(piece, 'base64');
}

/**
 * Parses an EncString of any type 0–7. Throws EncStringFormatError when the header is not a single known
 * digit, the piece count is wrong, a piece is not padded standard base64, an IV/MAC has the wrong length, or
 * an AES ciphertext is not whole blocks.
 * Headerless legacy strings are rejected: official clients always write the `<type>.` header.
 */
export function parseEncString(value: string): ParsedEncString {
  const dot = value.indexOf('.');
  const header = dot === -1 ? '' : value.slice(0, dot);
  if (!/^[0-7]$/.test(header)) throw new EncStringFormatError('missing or unknown EncString type header');
  const type = Number(header) as EncStringType;
  const pieces = value.slice(dot + 1).split('|');
  const layout = LAYOUTS[type];
  if (pieces.length !== layout.length) {
    throw new EncStringFormatError(`type ${type} needs ${layout.length} pieces, got ${pieces.length}`);
  }
  const parsed: ParsedEncString = { type, iv: null, data: Buffer.alloc(0), mac: null };
  layout.forEach((name, i) => {
    const piece = pieces[i];
    // Unreachable: the piece count was checked against the layout above.
    if (piece === undefined) throw new EncStringFormatError(`type ${type} is missing its ${name} piece`);
    const bytes = decodeBase64Piece(piece);
    const expected = EXPECTED_BYTES[name];
    if (expected !== null && bytes.length !== expected) {
      throw new EncStringFormatError(`${name} must be ${expected} bytes, got ${bytes.length}`);
    }
    // AES-CBC with PKCS#7 padding always yields whole 16-byte blocks.
    if (name === 'data' && layout[0] === 'iv' && bytes.length % AES_BLOCK_BYTES !== 0) {
      throw new EncStringFormatError('AES ciphertext is not a whole number of blocks');
    }
    parsed[name] = bytes;
  });
  return parsed;
}

/** Like parseEncString, but returns null instead of throwing. */
export function tryParseEncString(value: string): ParsedEncString | null {
  try {
    return parseEncString(value);
  } catch (err) {
    if (err instanceof EncStringFormatError) return null;
    throw err;
  }
}

/**
 * True when `value` is a string in one of `types` (default: the types the official server accepts) and is
 * structurally sound. Meant for validating request fields, so it takes `unknown` and never throws.
 */
export function isWellFormedEncString(
  value: unknown,
  types: readonly EncStringType[] = ACCEPTED_ENC_STRING_TYPES,
): boolean {
  if (typeof value !== 'string') return false;
  const parsed = tryParseEncString(value);
  return parsed !== null && types.includes(parsed.type);
}
