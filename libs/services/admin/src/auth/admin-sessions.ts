import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { ServerSecrets } from '@keyhaven/domain-auth';

export const SESSION_COOKIE = 'keyhaven_admin';
const CACHE_KEY = (id: string): string => `admin-session:${id}`;

export interface AdminSession {
  readonly id: string;
  /** Synchronizer token every form of this session carries. */
  readonly csrf: string;
  readonly createdAt: string;
  readonly ip: string | null;
}

/**
 * Portal sessions: a random id in an HMAC-signed cookie (HttpOnly, Secure, SameSite=Strict), the
 * session itself in the shared cache with the cookie's lifetime, so every instance knows it and
 * logging out ends it everywhere. The HMAC key is a server secret in the database.
 */
@Injectable()
export class AdminSessions {
  private readonly ttlSeconds: number;

  constructor(
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    private readonly secrets: ServerSecrets,
    @Inject(KEYHAVEN_CONFIG) config: KeyhavenConfig,
  ) {
    this.ttlSeconds = config.ADMIN_SESSION_TTL_SECONDS;
  }

  async create(ip: string | null): Promise<{ session: AdminSession; cookie: string }> {
    const session: AdminSession = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      createdAt: new Date().toISOString(),
      ip,
    };
    await this.cacheStore.cache.set(CACHE_KEY(session.id), session, this.ttlSeconds * 1000);
    const value = `${session.id}.${await this.sign(session.id)}`;
    return { session, cookie: this.cookie(value, this.ttlSeconds) };
  }

  /** The session a request's cookie names, when its signature holds and the cache still has it. */
  async fromCookieHeader(header: string | undefined): Promise<AdminSession | null> {
    const value = readCookie(header, SESSION_COOKIE);
    if (!value) return null;
    const [id = '', signature = ''] = value.split('.');
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const expected = Buffer.from(await this.sign(id));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    return (await this.cacheStore.cache.get<AdminSession>(CACHE_KEY(id))) ?? null;
  }

  async end(session: AdminSession): Promise<string> {
    await this.cacheStore.cache.delete(CACHE_KEY(session.id));
    return this.cookie('', 0);
  }

  /** Fixed-time comparison of a submitted CSRF token with the session's. */
  static csrfMatches(session: AdminSession, submitted: unknown): boolean {
    if (typeof submitted !== 'string') return false;
    const a = Buffer.from(session.csrf);
    const b = Buffer.from(submitted);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private async sign(id: string): Promise<string> {
    // A per-purpose key derived from the database secret: the cookie signature proves this server made it.
    return createHmac('sha256', await this.secrets.hmac('admin-session', 'cookie-key'))
      .update(id)
      .digest('base64url');
  }

  private cookie(value: string, maxAge: number): string {
    return `${SESSION_COOKIE}=${value}; Path=/admin; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`;
  }
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return decodeURIComponent(part.slice(index + 1).trim());
  }
  return null;
}
