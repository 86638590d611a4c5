import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { Lifecycle } from '@keyhaven/http';
import { TOKEN_VERIFIER, type TokenVerifier } from '@keyhaven/platform-auth';
import type { HubIdentity } from './hub-connection';
import { ANONYMOUS_HUB_PATH, HUB_PATH, HUB_SETTINGS, type HubSettings } from './hub-settings';

/** The outcome of an upgrade request: the identity to connect as, or the HTTP status that refuses it. */
export type Admission = { readonly ok: true; readonly identity: HubIdentity } | { readonly ok: false; status: number };

const IDENTITY = Symbol('hub identity');

type AdmittedRequest = IncomingMessage & { [IDENTITY]?: HubIdentity };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function bearer(request: IncomingMessage, query: URLSearchParams): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match?.[1]) return match[1];
  }
  return query.get('access_token');
}

/**
 * Decides each WebSocket upgrade before it is accepted: the per-IP connection cap, then the access token
 * (hub) or the login-request id (anonymous hub). A refused upgrade costs no WebSocket state.
 */
@Injectable()
export class HubAdmission {
  private readonly perIp = { [HUB_PATH]: new Map<string, number>(), [ANONYMOUS_HUB_PATH]: new Map<string, number>() };

  constructor(
    @Inject(HUB_SETTINGS) private readonly settings: HubSettings,
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    @Optional() private readonly lifecycle?: Lifecycle,
  ) {}

  /** The identity `admit` attached to an accepted request. */
  static identityOf(request: IncomingMessage): HubIdentity | undefined {
    return (request as AdmittedRequest)[IDENTITY];
  }

  /**
   * Behind a trusted proxy, the address that proxy saw: the last X-Forwarded-For entry (the one it wrote; the
   * nginx config overwrites the header, and an appending proxy puts whatever the client claimed first).
   */
  clientIp(request: IncomingMessage): string {
    if (this.settings.trustProxy) {
      const forwarded = request.headers['x-forwarded-for'];
      const nearest = (Array.isArray(forwarded) ? forwarded.at(-1) : forwarded)?.split(',').at(-1)?.trim();
      if (nearest) return nearest;
    }
    return request.socket.remoteAddress ?? 'unknown';
  }

  async admit(path: string, request: IncomingMessage): Promise<Admission> {
    // Shutting down: an upgrade on a kept-alive connection is refused, and the client retries elsewhere.
    if (this.lifecycle?.closed) return { ok: false, status: 503 };
    const counts = path === ANONYMOUS_HUB_PATH ? this.perIp[ANONYMOUS_HUB_PATH] : this.perIp[HUB_PATH];
    const limit =
      path === ANONYMOUS_HUB_PATH ? this.settings.anonymousConnectionsPerIp : this.settings.connectionsPerIp;
    const ip = this.clientIp(request);
    const open = counts.get(ip) ?? 0;
    if (open >= limit) return { ok: false, status: 429 };
    // The slot is held for as long as the TCP connection lives, whatever happens to the upgrade.
    counts.set(ip, open + 1);
    request.socket.once('close', () => {
      const now = (counts.get(ip) ?? 1) - 1;
      if (now <= 0) counts.delete(ip);
      else counts.set(ip, now);
    });
    const query = new URL(request.url ?? '/', 'http://hub').searchParams;
    const identity = path === ANONYMOUS_HUB_PATH ? this.anonymous(query) : await this.user(request, query);
    if (!identity) return { ok: false, status: path === ANONYMOUS_HUB_PATH ? 400 : 401 };
    (request as AdmittedRequest)[IDENTITY] = identity;
    return { ok: true, identity };
  }

  private anonymous(query: URLSearchParams): HubIdentity | null {
    const token = query.get('Token') ?? query.get('token');
    return token && GUID.test(token) ? { kind: 'anonymous', authRequestId: token.toLowerCase() } : null;
  }

  /** Verified as the api verifies it: signature by a key in the database, expiry, current security stamp. */
  private async user(request: IncomingMessage, query: URLSearchParams): Promise<HubIdentity | null> {
    const token = bearer(request, query);
    if (!token) return null;
    const principal = await this.verifier.verify(token);
    if (principal?.kind !== 'user' || !principal.scopes.includes('api')) return null;
    const claims = decodeJwt(token);
    if (typeof claims.exp !== 'number' || typeof claims['sstamp'] !== 'string') return null;
    return {
      kind: 'user',
      userId: principal.userId,
      stamp: claims['sstamp'],
      expiresAt: claims.exp * 1000,
      deviceIdentifier: principal.deviceIdentifier ?? null,
    };
  }
}
