import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import argon2 from 'argon2';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';

const PHC_ARGON2 = /^\$argon2(id|i|d)\$/;
/** A verified token is remembered this long (in this process only), so a script's calls skip Argon2. */
const VERIFIED_TTL_MS = 60_000;

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * `ADMIN_TOKEN`: an Argon2id PHC string (`keyhaven hash-admin-token`), or a plain token (accepted with
 * a warning at boot, compared in fixed time). Unset: the admin service does not exist (404).
 */
@Injectable()
export class AdminToken implements OnModuleInit {
  private readonly logger = new Logger('admin');
  private readonly configured: string | undefined;
  /** SHA-256 of recently verified tokens → expiry; never the token itself. */
  private readonly verified = new Map<string, number>();

  constructor(@Inject(KEYHAVEN_CONFIG) config: KeyhavenConfig) {
    this.configured = config.ADMIN_TOKEN?.trim() || undefined;
  }

  onModuleInit(): void {
    if (this.configured && !this.isHashed())
      this.logger.warn(
        'ADMIN_TOKEN is a plain token: store an Argon2id hash instead (keyhaven hash-admin-token prints one)',
      );
  }

  get enabled(): boolean {
    return this.configured !== undefined;
  }

  isHashed(): boolean {
    return this.configured !== undefined && PHC_ARGON2.test(this.configured);
  }

  async verify(candidate: string): Promise<boolean> {
    const configured = this.configured;
    if (!configured || candidate.length === 0 || candidate.length > 1024) return false;
    const key = digest(candidate).toString('base64');
    const now = Date.now();
    if ((this.verified.get(key) ?? 0) > now) return true;
    let ok: boolean;
    if (PHC_ARGON2.test(configured)) {
      try {
        ok = await argon2.verify(configured, candidate);
      } catch {
        ok = false;
      }
    } else {
      // Digests have equal lengths, so the comparison takes the same time whatever the candidate.
      ok = timingSafeEqual(digest(configured), digest(candidate));
    }
    if (ok) {
      if (this.verified.size > 100) this.verified.clear();
      this.verified.set(key, now + VERIFIED_TTL_MS);
    }
    return ok;
  }
}

/** The hash `keyhaven hash-admin-token` prints: Argon2id with Bitwarden's preset (64 MiB, t=3, p=4). */
export function hashAdminToken(token: string): Promise<string> {
  return argon2.hash(token, { type: argon2.argon2id, memoryCost: 65536, timeCost: 3, parallelism: 4 });
}
