import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CACHE_STORE, type CacheStore, isCacheUnavailable } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { rateLimited } from '@keyhaven/contracts';
import { isExpensiveCall } from './expensive-call';
import type { RequestWithPrincipal } from './principal';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Every authenticated change (POST, PUT, PATCH, DELETE) draws from its caller's per-minute budget
 * (WRITES_PER_MINUTE_PER_USER), counted in the shared cache store so it holds across instances. Each
 * write is cheap, but one account sending them in a tight loop would take a whole core from everyone
 * else (on the all-in-one, the embedded database's one connection too). Imports, exports and bulk
 * operations have their own budgets (@ExpensiveCall) and are not counted twice; anonymous routes have
 * the login and Send limits. Installed globally after GlobalAuthGuard, which sets the principal.
 */
@Injectable()
export class WriteBudgetGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithPrincipal & { method?: string }>();
    const principal = request.principal;
    if (!principal || !WRITE_METHODS.has(request.method ?? '')) return true;
    if (isExpensiveCall(this.reflector, context.getHandler())) return true;
    try {
      const decision = await this.cacheStore.rateLimiter.hit(
        `writes:${principal.kind}:${principal.userId}`,
        this.config.WRITES_PER_MINUTE_PER_USER,
        60_000,
      );
      if (!decision.allowed) throw rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
    } catch (error) {
      // Fails open, as the expensive-call budgets do: it shares an authenticated caller's capacity and guards
      // no credential, so while the shared store is down writes go on rather than stop everyone.
      if (isCacheUnavailable(error)) return true;
      throw error;
    }
    return true;
  }
}
