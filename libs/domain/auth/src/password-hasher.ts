import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import argon2 from 'argon2';
import { Injectable } from '@nestjs/common';

const pbkdf2Async = promisify(pbkdf2);

/**
 * A hash imported from Vaultwarden (`keyhaven import-vaultwarden`), which stores the client's master
 * password hash PBKDF2-HMAC-SHA256'd with a per-user salt: `$pbkdf2-sha256$i=ITERATIONS$SALT$HASH` (PHC
 * style, standard base64). Verified as Vaultwarden does, then replaced by an Argon2id hash at the next login.
 */
const IMPORTED_PBKDF2 = /^\$pbkdf2-sha256\$i=(\d{1,7})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export function importedPbkdf2Hash(salt: Buffer, hash: Buffer, iterations: number): string {
  return `$pbkdf2-sha256$i=${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * The client already sends PBKDF2/Argon2-derived master password hashes; the server hashes that
 * value again so a leaked database does not hand out login credentials. Argon2id with OWASP's
 * m=19 MiB, t=2, p=1 costs ~20 ms here: memory-hard (unlike Bitwarden's 100k PBKDF2) yet cheap
 * enough that login latency and a login burst stay bounded. Parameters live in the PHC string,
 * so they can be raised later and old hashes still verify.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordHasher {
  private dummy: Promise<string> | undefined;

  hash(secret: string): Promise<string> {
    return argon2.hash(secret, OPTIONS);
  }

  /** Constant-time comparison happens inside argon2.verify (and timingSafeEqual for imported hashes). */
  async verify(stored: string, secret: string): Promise<boolean> {
    const imported = IMPORTED_PBKDF2.exec(stored);
    if (imported) {
      const [, iterations = '0', salt = '', hash = ''] = imported;
      const expected = Buffer.from(hash, 'base64');
      if (Number(iterations) < 1 || expected.length === 0) return false;
      const actual = await pbkdf2Async(
        secret,
        Buffer.from(salt, 'base64'),
        Number(iterations),
        expected.length,
        'sha256',
      );
      return timingSafeEqual(actual, expected);
    }
    try {
      return await argon2.verify(stored, secret);
    } catch {
      return false;
    }
  }

  /** A hash in another scheme than this server's own (imported): replace it after a successful check. */
  needsRehash(stored: string): boolean {
    return !stored.startsWith('$argon2id$');
  }

  /** Spends the same time as a real check, so unknown accounts are not told apart by latency. */
  async verifyNothing(secret: string): Promise<false> {
    this.dummy ??= this.hash('keyhaven-timing-equaliser');
    await this.verify(await this.dummy, secret);
    return false;
  }
}
