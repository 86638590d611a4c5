import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ScryptIdentity, ScryptRecipient } from './age-scrypt';

/** How a backup is encrypted: a passphrase (scrypt) or an age X25519 recipient (`age1…`). */
export type EncryptionKey = { readonly passphrase: string } | { readonly recipient: string };
/** How it is decrypted: the passphrase, or the recipient's identity (`AGE-SECRET-KEY-1…`). */
export type DecryptionKey = { readonly passphrase: string } | { readonly identity: string };

export class BackupDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupDecryptError';
  }
}

// age-encryption is an ES module; the build turns import() into require(), which Node 20.19+ loads.
const age = () => import('age-encryption');

/** Loads the library now (about 100 ms of CPU), so that a serving process does not stall on it at its first backup. */
export async function loadAge(): Promise<void> {
  await age();
}

/** Encrypts a plaintext stream; the ciphertext stream is what goes to disk. */
export async function encryptStream(plaintext: WebReadableStream<Uint8Array>, key: EncryptionKey): Promise<Readable> {
  const { Encrypter, Stanza } = await age();
  const encrypter = new Encrypter();
  // Not setPassphrase: the library's scrypt would hold the event loop for seconds (see age-scrypt.ts).
  if ('passphrase' in key) encrypter.addRecipient(new ScryptRecipient(key.passphrase, Stanza));
  else {
    if (!/^age1[0-9a-z]+$/.test(key.recipient)) throw new Error('--recipient must be an age public key (age1…)');
    encrypter.addRecipient(key.recipient);
  }
  const ciphertext = await encrypter.encrypt(plaintext);
  return Readable.fromWeb(ciphertext);
}

function explain(error: unknown): BackupDecryptError {
  const message = error instanceof Error ? error.message : String(error);
  if (/no identity matched/i.test(message)) {
    return new BackupDecryptError('wrong passphrase or identity: this backup cannot be decrypted with it');
  }
  if (/invalid tag|stream|chunk|last/i.test(message)) {
    return new BackupDecryptError(
      'the backup file is damaged, truncated or was modified (its authentication failed); nothing was restored from it',
    );
  }
  return new BackupDecryptError(`not a readable age-encrypted backup (${message})`);
}

/** The decrypted bytes of a backup file; a wrong key, tampering or truncation fails with a BackupDecryptError. */
export async function* decryptFile(path: string, key: DecryptionKey): AsyncGenerator<Uint8Array> {
  const { Decrypter } = await age();
  const decrypter = new Decrypter();
  if ('passphrase' in key) decrypter.addIdentity(new ScryptIdentity(key.passphrase));
  else decrypter.addIdentity(key.identity.trim());
  let plaintext: AsyncIterable<Uint8Array>;
  try {
    const file = Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
    plaintext = await decrypter.decrypt(file);
  } catch (error) {
    throw explain(error);
  }
  const chunks = plaintext[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await chunks.next();
    } catch (error) {
      throw explain(error);
    }
    if (next.done) return;
    yield next.value;
  }
}
