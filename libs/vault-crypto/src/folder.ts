import { decryptType2Utf8, encryptType2 } from './enc-string';
import type { SymmetricKey } from './symmetric-key';

/** The folder request body (`POST/PUT folders`): only the name, type 2 under the user key. */
export function encryptFolder(userKey: SymmetricKey, name: string): { name: string } {
  return { name: encryptType2(userKey, name) };
}

export function decryptFolderName(userKey: SymmetricKey, folder: { name: string }): string {
  return decryptType2Utf8(userKey, folder.name);
}
