import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who is acting in the current HTTP request, for the audit log: read lazily, since the caller is only
 * known once the auth guard has run (after the hook that opened the context).
 */
export interface RequestContext {
  /** The authenticated person (null for public routes and organization API keys). */
  readonly actingUserId: string | null;
  /** Bitwarden's DeviceType number of the calling client, when it says. */
  readonly deviceType: number | null;
  /** The client's address (the forwarded one when TRUST_PROXY is on). */
  readonly ipAddress: string | null;
  /** Bitwarden's EventSystemUser when a system acts rather than a person (1 = SCIM). */
  readonly systemUser?: number | null;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the request being handled, if any (none in jobs and consumers). */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Runs `fn` (and everything it awaits) with `context` as the current request context. */
export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** Bitwarden's DeviceType numbers run 0–25 today; headers outside a small range are ignored. */
export function parseDeviceType(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value < 100 ? value : null;
  if (typeof value !== 'string' || !/^\d{1,2}$/.test(value)) return null;
  return Number(value);
}

interface ContextSource {
  readonly ip: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly principal?: { readonly kind?: string; readonly userId?: string; readonly deviceType?: unknown };
}

/**
 * The context of one Fastify request: the acting user and the token's device type come from the
 * principal the global guard sets on the request, the device type otherwise from the `Device-Type`
 * header every Bitwarden client sends, and the address from Fastify (which applies TRUST_PROXY).
 */
export function requestContextOf(request: ContextSource): RequestContext {
  return {
    get actingUserId() {
      const principal = request.principal;
      return principal?.kind === 'user' && typeof principal.userId === 'string' ? principal.userId : null;
    },
    get deviceType() {
      return parseDeviceType(request.principal?.deviceType) ?? parseDeviceType(request.headers['device-type']);
    },
    ipAddress: request.ip || null,
  };
}
