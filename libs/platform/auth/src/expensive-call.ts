import {
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  Optional,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { defer, finalize, from, mergeMap, type Observable } from 'rxjs';
import { CACHE_STORE, type CacheStore, isCacheUnavailable, type LockHandle } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { rateLimited, unauthorized } from '@keyhaven/contracts';
import type { PreParseAdmission } from '@keyhaven/http';
import { TOKEN_VERIFIER, type RequestWithPrincipal, type TokenVerifier } from './principal';

/**
 * Which budget a call draws from: `sync` uses the SYNC_* settings, every other kind the
 * EXPENSIVE_CALLS_* ones. Each kind has its own counters, so a burst of imports does not stop syncs.
 */
export type ExpensiveCallKind = 'sync' | 'import' | 'export' | 'details' | 'bulk' | 'directory-import';

const EXPENSIVE_CALL = 'keyhaven:expensiveCall';

/** How long a concurrency slot is held at most when its holder dies without releasing it. */
const SLOT_LEASE_MS = 5 * 60 * 1000;
/** Retry-After for a call refused because the caller already has its share running. */
const BUSY_RETRY_SECONDS = 1;

/**
 * Limits a handler per caller (a user, or an organization for its API key): at most N running at
 * once and M started per minute, counted in the shared cache store (Redis in split mode, memory in
 * the all-in-one), so the limits hold across instances. Beyond either, 429 in Bitwarden's error
 * shape with `Retry-After`; other callers are unaffected.
 */
export const ExpensiveCall = (kind: ExpensiveCallKind): MethodDecorator =>
  applyDecorators(SetMetadata(EXPENSIVE_CALL, kind), UseInterceptors(ExpensiveCallInterceptor));

/** Whether a handler draws from an expensive-call budget (the per-user write budget then leaves it alone). */
export function isExpensiveCall(reflector: Reflector, handler: object): boolean {
  return reflector.get<ExpensiveCallKind | undefined>(EXPENSIVE_CALL, handler as () => unknown) !== undefined;
}

/** Requests admitted before their body was read, with the kind they were admitted for. */
const admittedEarly = new WeakMap<object, ExpensiveCallKind>();

/** The routes with large bodies that count as expensive calls, and their kind (matched on the route pattern). */
const EARLY_KINDS: readonly [RegExp, ExpensiveCallKind][] = [
  [/\/ciphers\/import(-organization)?$/i, 'import'],
  [/\/public\/organization\/import$/i, 'directory-import'],
];

function bearerToken(headers: Record<string, string | string[] | undefined>): string | null {
  const header = headers['authorization'];
  return typeof header === 'string' ? (/^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? null) : null;
}

/**
 * The per-caller limits of an import, taken before its body (up to 64 MiB) is read: a caller over the
 * limit gets its 429 at once, and the server never reads or parses more bodies than the limits let run.
 * The token is verified here as the guard would (the guard still runs after). The slot is released when
 * the response ends, whatever happened in between; the interceptor then does not count the call twice.
 */
@Injectable()
export class ExpensiveBodyAdmission implements PreParseAdmission {
  constructor(
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    @Optional() @Inject(TOKEN_VERIFIER) private readonly verifier?: TokenVerifier,
  ) {}

  async admit(
    request: { routeOptions: { url?: string | undefined }; headers: Record<string, string | string[] | undefined> },
    reply: { raw: { once(event: 'close', fn: () => void): unknown } },
  ): Promise<void> {
    const url = request.routeOptions.url ?? '';
    const kind = EARLY_KINDS.find(([pattern]) => pattern.test(url))?.[1];
    if (!kind) return;
    const token = bearerToken(request.headers);
    const principal = token && this.verifier ? await this.verifier.verify(token) : null;
    if (!principal) throw unauthorized();
    const slot = await admit(this.cacheStore, this.config, kind, `${principal.kind}:${principal.userId}`);
    reply.raw.once('close', () => void slot.release().catch(() => undefined));
    admittedEarly.set(request, kind);
  }
}

@Injectable()
export class ExpensiveCallInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const kind = this.reflector.get<ExpensiveCallKind | undefined>(EXPENSIVE_CALL, context.getHandler());
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const principal = request.principal;
    if (!kind || !principal) return next.handle();
    if (admittedEarly.get(request) === kind) return next.handle();
    const caller = `${principal.kind}:${principal.userId}`;
    const raw = context
      .switchToHttp()
      .getResponse<{ raw?: { once(event: 'close', fn: () => void): unknown; destroyed?: boolean } }>().raw;
    return from(admit(this.cacheStore, this.config, kind, caller)).pipe(
      mergeMap((slot) => {
        let released = false;
        const release = (): void => {
          if (released) return;
          released = true;
          void slot.release().catch(() => undefined);
        };
        const handled = defer(() => next.handle());
        // The slot is held until the reply has gone out (serialising a large reply is a costly part of a sync)
        // or the connection closed; without a raw response, until the handler is done.
        if (!raw || raw.destroyed) return handled.pipe(finalize(release));
        raw.once('close', release);
        return handled;
      }),
    );
  }
}

function limits(config: KeyhavenConfig, kind: ExpensiveCallKind): { concurrent: number; perMinute: number } {
  return kind === 'sync'
    ? { concurrent: config.SYNC_CONCURRENT_PER_USER, perMinute: config.SYNC_PER_MINUTE_PER_USER }
    : { concurrent: config.EXPENSIVE_CALLS_CONCURRENT_PER_USER, perMinute: config.EXPENSIVE_CALLS_PER_MINUTE_PER_USER };
}

/** Takes a free concurrency slot, then counts the call; refuses with 429 when either is exhausted. */
async function admit(
  cacheStore: CacheStore,
  config: KeyhavenConfig,
  kind: ExpensiveCallKind,
  caller: string,
): Promise<LockHandle> {
  try {
    return await takeSlot(cacheStore, config, kind, caller);
  } catch (error) {
    // Fails open: these budgets share an authenticated caller's capacity between their own calls and guard no
    // credential, so while the shared store is down syncs and imports run unlimited rather than stop everyone.
    if (isCacheUnavailable(error)) return UNLIMITED_SLOT;
    throw error;
  }
}

/** What a call admitted without the shared store holds: nothing to release. */
const UNLIMITED_SLOT: LockHandle = { release: () => Promise.resolve() };

async function takeSlot(
  cacheStore: CacheStore,
  config: KeyhavenConfig,
  kind: ExpensiveCallKind,
  caller: string,
): Promise<LockHandle> {
  const { concurrent, perMinute } = limits(config, kind);
  const base = `expensive:${kind}:${caller}`;
  let slot: LockHandle | null = null;
  for (let i = 0; i < concurrent && !slot; i++)
    slot = await cacheStore.lock.tryAcquire(`${base}:slot:${i}`, SLOT_LEASE_MS);
  if (!slot) throw rateLimited(BUSY_RETRY_SECONDS);
  try {
    const decision = await cacheStore.rateLimiter.hit(`${base}:rate`, perMinute, 60_000);
    if (!decision.allowed) throw rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  } catch (error) {
    await slot.release().catch(() => undefined);
    throw error;
  }
  return slot;
}
