import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { encryptType2 } from './enc-string';
import { hkdf } from './hkdf';
import { SymmetricKey } from './symmetric-key';

const SEED_BYTES = 16;

/** The Send content key: full HKDF-SHA256 (Extract and Expand) of the 16-byte seed. */
export function deriveSendKey(seed: Uint8Array): SymmetricKey {
  if (seed.length !== SEED_BYTES) throw new Error('a Send seed is 16 bytes');
  return SymmetricKey.fromBytes(hkdf(seed, 'bitwarden-send', 'send', 64));
}

/** The Send access password hash: b64(PBKDF2-SHA256(password, salt = seed, 100000 iterations, 32 bytes)). */
export function hashSendPassword(password: string, seed: Uint8Array): string {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), seed, 100_000, 32, 'sha256').toString('base64');
}

export interface SendKeyMaterial {
  seed: Buffer;
  sendKey: SymmetricKey;
  /** The seed as type 2 under the user key: the Send's `key` field. */
  key: string;
  /** b64url(seed): the last path segment of the share URL `<vault>/#/send/<accessId>/<urlKey>`. */
  urlKey: string;
}

export function createSendKey(userKey: SymmetricKey, seed: Uint8Array = randomBytes(SEED_BYTES)): SendKeyMaterial {
  const seedBuf = Buffer.from(seed);
  return {
    seed: seedBuf,
    sendKey: deriveSendKey(seedBuf),
    key: encryptType2(userKey, seedBuf),
    urlKey: seedBuf.toString('base64url'),
  };
}

/** The Send key a recipient derives from the URL fragment. */
export function sendKeyFromUrlKey(urlKey: string): SymmetricKey {
  return deriveSendKey(Buffer.from(urlKey, 'base64url'));
}
