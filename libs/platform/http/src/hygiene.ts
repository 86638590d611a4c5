import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** What a process needs to decide its response headers, CORS and socket limits. */
export interface HttpHygiene {
  /** DOMAIN: its origin is the one browser origin (the web vault) besides the extensions allowed by CORS. */
  readonly domain: string;
  /** Whole request (headers and body) must arrive within this, else 408 and the socket is closed. */
  readonly requestTimeoutMs: number;
  /** The header block must arrive within this. */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections the listener accepts at most (0: no cap). */
  readonly maxConnections: number;
}

export const DEFAULT_HTTP_HYGIENE: Omit<HttpHygiene, 'domain'> = {
  requestTimeoutMs: 60_000,
  headersTimeoutMs: 15_000,
  keepAliveTimeoutMs: 30_000,
  maxConnections: 10_000,
};

/** Options of Node's HTTP(S) server: header and request timeouts, checked often enough for short values. */
export function serverTimeouts(hygiene: HttpHygiene): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  const requestTimeout = hygiene.requestTimeoutMs;
  // Node refuses a header timeout longer than the request timeout.
  const headersTimeout = Math.min(hygiene.headersTimeoutMs, requestTimeout);
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: hygiene.keepAliveTimeoutMs,
    // Node checks the two timeouts on this interval (30 s by default), so a short timeout needs a shorter one.
    connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(headersTimeout / 3))),
  };
}

/**
 * Browser extensions call the server from their own origin: `chrome-extension://<id>` (Chrome, Edge, Opera,
 * Brave…), `moz-extension://<uuid>` (Firefox), `safari-web-extension://<uuid>` (Safari).
 */
const EXTENSION_ORIGIN =
  /^(chrome-extension|moz-extension|safari-web-extension|ms-browser-extension):\/\/[A-Za-z0-9._-]{1,128}$/;

/** The desktop app's renderer loads its pages from disk and sends `Origin: file://` (Vaultwarden allows it too). */
const DESKTOP_ORIGIN = 'file://';

/**
 * The CORS decision: the configured vault origin, the browser extensions and the desktop app; never `null` or
 * another site.
 */
export function corsOriginAllowed(domain: string): (origin: string | undefined) => boolean {
  const vaultOrigin = new URL(domain).origin;
  return (origin) =>
    origin !== undefined && (origin === vaultOrigin || origin === DESKTOP_ORIGIN || EXTENSION_ORIGIN.test(origin));
}

/**
 * A JSON API: nothing it answers is a document to render, frame or load sub-resources for. Browsers apply the
 * policy to any response they do render (an error page opened directly), so it stays as strict as it gets.
 */
export const API_CONTENT_SECURITY_POLICY =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox";

/** Two years, as browsers' preload lists expect. */
const HSTS = 'max-age=63072000; includeSubDomains';

/**
 * Security headers on every response Fastify writes (errors and 404s included), and `Cache-Control: no-store`
 * on every response that does not choose its own caching: tokens, sync, keys and every other answer of
 * /api and /identity carry secrets (encrypted or not) that must stay out of browser and proxy caches.
 * HSTS goes out over HTTPS: served here, or (with TRUST_PROXY) terminated by the proxy in front.
 */
export function installSecurityHeaders(fastify: FastifyInstance, servesHttps: boolean): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'content-security-policy': API_CONTENT_SECURITY_POLICY,
      'referrer-policy': 'same-origin',
    });
    if (servesHttps || request.protocol === 'https') void reply.header('strict-transport-security', HSTS);
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    if (!reply.hasHeader('pragma')) void reply.header('pragma', 'no-cache');
    done(null, payload);
  });
}

/**
 * Whether a request on the public port may read the health detail and the metrics: only a direct connection
 * from this host (a container health check, an operator's curl) that no proxy forwarded. Everyone else gets a
 * bare `/healthz` status (same status code) and no `/metrics`; the management port serves both to its network.
 */
export function isDirectLocalRequest(request: IncomingMessage): boolean {
  const address = request.socket.remoteAddress ?? '';
  const loopback = address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  return loopback && request.headers['x-forwarded-for'] === undefined && request.headers.forwarded === undefined;
}
