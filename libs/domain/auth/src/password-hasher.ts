import argon2 from 'argon2';
import { Injectable } from '@nestjs/common';

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

  /** Constant-time comparison happens inside argon2.verify. */
  async verify(stored: string, secret: string): Promise<boolean> {
    try {
      return await argon2.verify(stored, secret);
    } catch {
      return false;
    }
  }

  /** Spends the same time as a real check, so unknown accounts are not told apart by latency. */
  async verifyNothing(secret: string): Promise<false> {
    this.dummy ??= this.hash('keyhaven-timing-equaliser');
    await this.verify(await this.dummy, secret);
    return false;
  }
}
