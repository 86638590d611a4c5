import { Controller, Get, Global, Inject, Module, Res, type DynamicModule } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '@keyhaven/platform-auth';
import { metricsRegistry } from './metrics';

/** A dependency /healthz reports on. `check` throws when the dependency is unusable. */
export interface HealthCheck {
  readonly name: string;
  /** Which adapter serves it, e.g. `postgres` or `pglite`. */
  readonly kind: string;
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

@Public()
@Controller()
export class HealthController {
  constructor(@Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[]) {}

  /** Process is up; no dependency is touched. */
  @Get('alive')
  alive(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('healthz')
  async healthz(@Res() reply: FastifyReply): Promise<void> {
    const results = await Promise.all(this.checks.map(async (c) => [c.name, await runCheck(c)] as const));
    const healthy = results.every(([, r]) => r.status === 'ok');
    await reply
      .status(healthy ? 200 : 503)
      .send({ status: healthy ? 'ok' : 'error', checks: Object.fromEntries(results) });
  }

  @Get('metrics')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    await reply.header('content-type', metricsRegistry.contentType).send(await metricsRegistry.metrics());
  }
}

@Global()
@Module({})
export class HealthModule {
  static forRoot(checks: HealthCheck[]): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [{ provide: HEALTH_CHECKS, useValue: checks }],
    };
  }
}
