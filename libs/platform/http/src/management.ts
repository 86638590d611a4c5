import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { runHealthChecks, type HealthCheck } from './health';
import type { Lifecycle } from './lifecycle';
import { metricsRegistry } from './metrics';

/**
 * The management listener (MANAGEMENT_PORT on MANAGEMENT_HOST, 127.0.0.1 unless set): `/metrics`, `/healthz`
 * with each dependency's detail, and `/alive`, over plain HTTP for scrapers and probes inside the network.
 */
export async function startManagementServer(options: {
  readonly port: number;
  readonly host: string;
  readonly checks: HealthCheck[];
  readonly logger: Logger;
  /** While the process shuts down, /healthz answers 503 here too. */
  readonly lifecycle?: Lifecycle;
}): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const answer = (status: number, contentType: string, body: string): void => {
      response.writeHead(status, {
        'content-type': contentType,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      answer(405, 'application/json; charset=utf-8', '{"status":"error"}');
      return;
    }
    const respond = async (): Promise<void> => {
      if (path === '/alive') answer(200, 'application/json; charset=utf-8', '{"status":"ok"}');
      else if (path === '/healthz' && options.lifecycle && !options.lifecycle.ready) {
        answer(503, 'application/json; charset=utf-8', '{"status":"draining"}');
      } else if (path === '/healthz') {
        const health = await runHealthChecks(options.checks);
        answer(health.status === 'error' ? 503 : 200, 'application/json; charset=utf-8', JSON.stringify(health));
      } else if (path === '/metrics') answer(200, metricsRegistry.contentType, await metricsRegistry.metrics());
      else answer(404, 'application/json; charset=utf-8', '{"status":"error"}');
    };
    respond().catch((error: unknown) => {
      options.logger.error({ err: error }, 'management request failed');
      if (!response.headersSent) answer(500, 'application/json; charset=utf-8', '{"status":"error"}');
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => {
      server.off('error', fail);
      done();
    });
  });
  options.logger.info({ host: options.host, port: options.port }, 'management listener (/metrics, /healthz)');
  return server;
}
