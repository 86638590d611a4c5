import {
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { defer, finalize, from, mergeMap, type Observable } from 'rxjs';
import { CACHE_STORE, type CacheStore, type LockHandle } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { rateLimited } from '@keyhaven/contracts';
import type { RequestWithPrincipal } from './principal';

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

@Injectable()
export class ExpensiveCallInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const kind = this.reflector.get<ExpensiveCallKind | undefined>(EXPENSIVE_CALL, context.getHandler());
    const principal = context.switchToHttp().getRequest<RequestWithPrincipal>().principal;
    if (!kind || !principal) return next.handle();
    const caller = `${principal.kind}:${principal.userId}`;
    const raw = context
      .switchToHttp()
      .getResponse<{ raw?: { once(event: 'close', fn: () => void): unknown; destroyed?: boolean } }>().raw;
    return from(this.admit(kind, caller)).pipe(
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

  private limits(kind: ExpensiveCallKind): { concurrent: number; perMinute: number } {
    return kind === 'sync'
      ? { concurrent: this.config.SYNC_CONCURRENT_PER_USER, perMinute: this.config.SYNC_PER_MINUTE_PER_USER }
      : {
          concurrent: this.config.EXPENSIVE_CALLS_CONCURRENT_PER_USER,
          perMinute: this.config.EXPENSIVE_CALLS_PER_MINUTE_PER_USER,
        };
  }

  /** Takes a free concurrency slot, then counts the call; refuses with 429 when either is exhausted. */
  private async admit(kind: ExpensiveCallKind, caller: string): Promise<LockHandle> {
    const { concurrent, perMinute } = this.limits(kind);
    const base = `expensive:${kind}:${caller}`;
    let slot: LockHandle | null = null;
    for (let i = 0; i < concurrent && !slot; i++)
      slot = await this.cacheStore.lock.tryAcquire(`${base}:slot:${i}`, SLOT_LEASE_MS);
    if (!slot) throw rateLimited(BUSY_RETRY_SECONDS);
    try {
      const decision = await this.cacheStore.rateLimiter.hit(`${base}:rate`, perMinute, 60_000);
      if (!decision.allowed) throw rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
    } catch (error) {
      await slot.release().catch(() => undefined);
      throw error;
    }
    return slot;
  }
}
