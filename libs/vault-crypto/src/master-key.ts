import { pbkdf2Sync } from 'node:crypto';
import { hkdfExpand } from './hkdf';
import { deriveMasterKey, type KdfConfig } from './kdf';
import { SymmetricKey } from './symmetric-key';

/**
 * The server authentication hash: b64(PBKDF2-SHA256(password = master key, salt = master password, 1 iteration)).
 * Sent as `masterPasswordHash` at registration and as `password` in the token request.
 */
export function hashMasterPassword(masterKey: Uint8Array, password: string): string {
  return pbkdf2Sync(masterKey, Buffer.from(password, 'utf8'), 1, 32, 'sha256').toString('base64');
}

/** The key that wraps the user key: HKDF-Expand(master key, "enc") ‖ HKDF-Expand(master key, "mac"). */
export function stretchMasterKey(masterKey: Uint8Array): SymmetricKey {
  if (masterKey.length !== 32) throw new Error('a master key is 32 bytes');
  return SymmetricKey.fromParts(hkdfExpand(masterKey, 'enc', 32), hkdfExpand(masterKey, 'mac', 32));
}

/** The master password hash in one step, as a client computes it for the token request. */
export async function deriveMasterPasswordHash(password: string, email: string, kdf: KdfConfig): Promise<string> {
  return hashMasterPassword(await deriveMasterKey(password, email, kdf), password);
}
