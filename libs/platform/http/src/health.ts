import { Controller, Get, Global, Inject, Module, Req, Res, type DynamicModule } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '@keyhaven/contracts';
import { Public } from '@keyhaven/platform-auth';
import { isDirectLocalRequest } from './hygiene';
import { Lifecycle } from './lifecycle';
import { metricsRegistry } from './metrics';

/** A dependency /healthz reports on. `check` throws when the dependency is unusable. */
export interface HealthCheck {
  readonly name: string;
  /** Which adapter serves it, e.g. `postgres` or `pglite`. */
  readonly kind: string;
  /**
   * False for a dependency whose outage the instance rides out (the bus: writes wait in the outbox; the cache:
   * see deploy/README.md). Its failure shows in the detail and as `status: "degraded"` but keeps readiness 200:
   * taking every instance out of the load balancer would turn a partial outage into a full one. Default true.
   */
  readonly required?: boolean;
  check(): Promise<void>;
}

export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');
const CHECK_TIMEOUT_MS = 3000;

async function runCheck(
  check: HealthCheck,
): Promise<{ status: 'ok' | 'error'; kind: string; latencyMs: number; error?: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error('timed out'));
        }, CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'ok', kind: check.kind, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    // Only the error message: connection errors can echo hosts but never credentials here.
    const message = error instanceof Error ? error.message : 'unavailable';
    return { status: 'error', kind: check.kind, latencyMs: Math.round(performance.now() - started), error: message };
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthReport {
  /** `error`: a required dependency is down (readiness 503); `degraded`: only optional ones are. */
  status: 'ok' | 'degraded' | 'error';
  checks: Record<string, Awaited<ReturnType<typeof runCheck>>>;
}

/** Every dependency checked at once, with its adapter, latency and error. */
export async function runHealthChecks(checks: HealthCheck[]): Promise<HealthReport> {
  const results = await Promise.all(checks.map(async (c) => [c.name, await runCheck(c)] as const));
  const failed = checks.filter((_, i) => results[i]?.[1].status !== 'ok');
  const status = failed.length === 0 ? 'ok' : failed.some((c) => c.required !== false) ? 'error' : 'degraded';
  return { status, checks: Object.fromEntries(results) };
}

/**
 * Liveness is `/alive` (the process answers; a failing one should be restarted) and readiness is `/healthz` (every
 * dependency reachable and the process not shutting down; a failing one should get no new requests).
 * `/alive` is public. On the public port `/healthz` answers its status code to anyone (load balancers, probes)
 * but its detail (adapters, hosts in error messages, latencies) and `/metrics` only to a direct connection from
 * this host; the management port (MANAGEMENT_PORT) serves both.
 */
@Public()
@Controller()
export class HealthController {
  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[],
    private readonly lifecycle: Lifecycle,
  ) {}

  /** Liveness: the process is up; no dependency is touched, and it stays 200 while the process drains. */
  @Get('alive')
  alive(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: 503 while a required dependency is unreachable, and from SIGTERM on (`status: "draining"`). */
  @Get('healthz')
  async healthz(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!this.lifecycle.ready) {
      await reply.status(503).send({ status: 'draining' });
      return;
    }
    const health = await runHealthChecks(this.checks);
    await reply
      .status(health.status === 'error' ? 503 : 200)
      .send(isDirectLocalRequest(request.raw) ? health : { status: health.status });
  }

  @Get('metrics')
  async metrics(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!isDirectLocalRequest(request.raw)) {
      await reply.status(404).send(errorBody('Resource not found.'));
      return;
    }
    await reply.header('content-type', metricsRegistry.contentType).send(await metricsRegistry.metrics());
  }
}

@Global()
@Module({})
export class HealthModule {
  static forRoot(checks: HealthCheck[], lifecycle: Lifecycle = new Lifecycle()): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [
        { provide: HEALTH_CHECKS, useValue: checks },
        { provide: Lifecycle, useValue: lifecycle },
      ],
      // The admin service's diagnostics page runs the same checks; the hub closes its clients on shutdown.
      exports: [HEALTH_CHECKS, Lifecycle],
    };
  }
}
