import { createHash, pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import * as argon2 from 'argon2';

const pbkdf2Async = promisify(pbkdf2);

export const KdfType = { Pbkdf2Sha256: 0, Argon2id: 1 } as const;
export type KdfType = (typeof KdfType)[keyof typeof KdfType];

/** KDF settings as the server stores them and returns them from prelogin. Memory is in MiB. */
export interface KdfConfig {
  kdfType: KdfType;
  iterations: number;
  memory: number | null;
  parallelism: number | null;
}

/** The official clients' default for new accounts. */
export const DEFAULT_KDF: KdfConfig = { kdfType: 0, iterations: 600_000, memory: null, parallelism: null };

export function pbkdf2Kdf(iterations = 600_000): KdfConfig {
  return { kdfType: 0, iterations, memory: null, parallelism: null };
}

export function argon2idKdf(iterations = 3, memory = 64, parallelism = 4): KdfConfig {
  return { kdfType: 1, iterations, memory, parallelism };
}

/** The master password salt: the account email, trimmed and lowercased. */
export function emailToSalt(email: string): string {
  return email.trim().toLowerCase();
}

function isIntIn(value: number | null, min: number, max: number): value is number {
  return value !== null && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Throws unless the settings are ones the official clients will derive with (their prelogin bounds), so a test
 * cannot build an account that a real client would refuse to unlock.
 */
export function assertValidKdfConfig(kdf: KdfConfig): void {
  if (kdf.kdfType === KdfType.Pbkdf2Sha256) {
    if (!isIntIn(kdf.iterations, 5_000, 2_000_000)) throw new RangeError('PBKDF2 iterations must be 5000..2000000');
    return;
  }
  if (!isIntIn(kdf.iterations, 2, 10)) throw new RangeError('Argon2id iterations must be 2..10');
  if (!isIntIn(kdf.memory, 16, 1024)) throw new RangeError('Argon2id memory must be 16..1024 MiB');
  if (!isIntIn(kdf.parallelism, 1, 16)) throw new RangeError('Argon2id parallelism must be 1..16');
}

/** The 32-byte master key. `email` is normalised with emailToSalt, so an already-normalised salt also works. */
export async function deriveMasterKey(password: string, email: string, kdf: KdfConfig): Promise<Buffer> {
  assertValidKdfConfig(kdf);
  const salt = emailToSalt(email);
  const secret = Buffer.from(password, 'utf8');
  if (kdf.kdfType === KdfType.Pbkdf2Sha256) {
    return pbkdf2Async(secret, Buffer.from(salt, 'utf8'), kdf.iterations, 32, 'sha256');
  }
  // Argon2 wants a salt of at least 8 bytes, so Bitwarden hashes the salt string first.
  return argon2.hash(secret, {
    type: argon2.argon2id,
    version: 0x13,
    raw: true,
    salt: createHash('sha256').update(salt, 'utf8').digest(),
    memoryCost: (kdf.memory ?? 0) * 1024,
    timeCost: kdf.iterations,
    parallelism: kdf.parallelism ?? 0,
    hashLength: 32,
  });
}

/** The flat KDF fields of prelogin responses, the profile and legacy registration bodies. */
export interface KdfFields {
  kdf: KdfType;
  kdfIterations: number;
  kdfMemory?: number | null;
  kdfParallelism?: number | null;
}

export function kdfFromFields(fields: KdfFields): KdfConfig {
  return {
    kdfType: fields.kdf,
    iterations: fields.kdfIterations,
    memory: fields.kdfMemory ?? null,
    parallelism: fields.kdfParallelism ?? null,
  };
}

export function kdfToFields(kdf: KdfConfig): Required<KdfFields> {
  return { kdf: kdf.kdfType, kdfIterations: kdf.iterations, kdfMemory: kdf.memory, kdfParallelism: kdf.parallelism };
}
