/**
 * Errors that mean "a dependency (PostgreSQL, a socket to it) is down or restarting", not "this request is
 * wrong" or "the code is wrong": the request may succeed unchanged in a few seconds, so it is answered 503
 * with Retry-After instead of 500. Redis has its own error (CacheUnavailableError, already a 503).
 */

/** Socket-level failures reaching a dependency. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL's SQLSTATEs for a server that is going away or not yet back: class 08 (connection exception),
 * 57P01 (terminated by the administrator: a fast shutdown or restart), 57P02 (crash shutdown), 57P03 (starting
 * up or shutting down), 53300 (too many connections, e.g. while a failover's pooler refills).
 */
function isOutageSqlState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/** node-postgres' own messages for a lost or never-made connection (they carry no code). */
const DRIVER_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection terminated due to connection timeout)/;

export function isDependencyOutage(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && isOutageSqlState(code))))
      return true;
    if (DRIVER_MESSAGES.test(e.message)) return true;
    // TypeORM wraps the driver's error (QueryFailedError.driverError); Error.cause for the rest.
    e = (e as { driverError?: unknown }).driverError ?? e.cause;
  }
  return false;
}

/** Retry-After while a dependency is down: PostgreSQL restarts and failovers take seconds. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;
