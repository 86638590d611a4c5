import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import type { Identity, Recipient, Stanza } from 'age-encryption';

/**
 * age's passphrase recipient and identity (the `scrypt` stanza of age v1), with the key derived by node's
 * asynchronous scrypt, which runs on libuv's thread pool. The age library derives it in JavaScript on the calling
 * thread: at work factor 2^18 (256 MiB) that is seconds in which the server answers nothing, twice per scheduled
 * backup. The bytes written are those the library writes, so either reads the other's files.
 */
const LABEL = Buffer.from('age-encryption.org/v1/scrypt');
/** The library's default work factor for encryption. */
export const SCRYPT_LOG_N = 18;
/** The highest the library accepts when decrypting; higher would let a file demand gigabytes. */
const MAX_LOG_N = 20;
const R = 8;
const P = 1;
/** ChaCha20-Poly1305 of the 16-byte file key under the derived key, nonce zero: body of 32 bytes. */
const ZERO_NONCE = Buffer.alloc(12);

type StanzaClass = new (args: string[], body: Uint8Array) => Stanza;

function deriveKey(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  // Node's bound on what scrypt may allocate (32 MiB by default); the derivation needs 128·r·(N + p + 2) bytes.
  const maxmem = 128 * R * (N + P + 2) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(passphrase, Buffer.concat([LABEL, salt]), 32, { N, r: R, p: P, maxmem }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

/** Unpadded standard base64 (the stanza's salt), strictly: 16 bytes or undefined. */
function decodeSalt(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]{22}$/.test(text)) return undefined;
  const salt = Buffer.from(text, 'base64');
  return salt.length === 16 && salt.toString('base64').replace(/=+$/, '') === text ? salt : undefined;
}

export class ScryptRecipient implements Recipient {
  constructor(
    private readonly passphrase: string,
    private readonly stanza: StanzaClass,
    private readonly logN = SCRYPT_LOG_N,
  ) {}

  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const salt = randomBytes(16);
    const key = await deriveKey(this.passphrase, salt, this.logN);
    const cipher = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
    const body = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
    const saltText = salt.toString('base64').replace(/=+$/, '');
    return [new this.stanza(['scrypt', saltText, String(this.logN)], body)];
  }
}

export class ScryptIdentity implements Identity {
  constructor(private readonly passphrase: string) {}

  /** The file key, or null when the file is not passphrase-encrypted or the passphrase is wrong. */
  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    const stanza = stanzas.find((s) => s.args[0] === 'scrypt');
    if (!stanza) return null;
    // As age requires: a passphrase file has no other recipients, so knowing it says nothing about who else could.
    if (stanzas.length !== 1) throw new Error('scrypt recipient is not the only one in the header');
    const [, saltText = '', logNText = ''] = stanza.args;
    const salt = decodeSalt(saltText);
    if (stanza.args.length !== 3 || !salt || !/^[1-9][0-9]*$/.test(logNText) || stanza.body.length !== 32) {
      throw new Error('invalid scrypt stanza');
    }
    const logN = Number(logNText);
    if (logN > MAX_LOG_N) throw new Error('scrypt work factor is too high');
    const key = await deriveKey(this.passphrase, salt, logN);
    const decipher = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
    decipher.setAuthTag(stanza.body.subarray(16));
    try {
      return Buffer.concat([decipher.update(stanza.body.subarray(0, 16)), decipher.final()]);
    } catch {
      return null;
    }
  }
}
