import { randomUUID } from 'node:crypto';
import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { BitwardenErrorFilter } from './error-filter';
import { NestPinoLogger, redactUrl } from './logger';
import { httpDuration } from './metrics';
import type { TlsMaterial } from './tls';

export interface HttpAppOptions {
  readonly rootModule: Type | DynamicModule;
  readonly logger: Logger;
  readonly tls?: TlsMaterial | undefined;
  readonly trustProxy: boolean;
  /** Runs after the application is built and before it initialises (e.g. to install a WebSocket adapter). */
  readonly beforeInit?: ((app: NestFastifyApplication) => void) | undefined;
}

/** Default body cap; imports and attachments get LARGE_BODY_LIMIT. */
export const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;
export const LARGE_BODY_LIMIT = 64 * 1024 * 1024;
const LARGE_BODY_ROUTE = /\/(import|import-organization|attachment(\/[^/]+)?|file(\/[^/]+)?)$/;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

function requestIdOf(request: { headers: Record<string, string | string[] | undefined> }): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Bodies: an empty JSON body means `{}` (clients POST some actions without one). */
function parseJson(
  _request: FastifyRequest,
  body: Buffer,
  done: (error: Error | null, parsed?: unknown) => void,
): void {
  if (body.length === 0) {
    done(null, {});
    return;
  }
  const text = body.toString('utf8');
  // PostgreSQL cannot store NUL in text; refusing it here keeps it a 400 rather than a failed write.
  if (text.includes('\\u0000') || text.includes('\0')) {
    done(Object.assign(new Error('NUL in body'), { statusCode: 400, code: 'KEYHAVEN_NUL_IN_BODY' }));
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    done(Object.assign(new Error('invalid JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }));
    return;
  }
  done(null, parsed);
}

/** A Nest application on Fastify, with Keyhaven's error shape, request ids, logs and metrics. */
export async function createHttpApp(options: HttpAppOptions): Promise<NestFastifyApplication> {
  const { logger } = options;
  const adapter = new FastifyAdapter({
    ...(options.tls ? { https: { key: options.tls.key, cert: options.tls.cert } } : {}),
    bodyLimit: DEFAULT_BODY_LIMIT,
    trustProxy: options.trustProxy,
    genReqId: requestIdOf,
    logger: false,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false },
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRoute', (route) => {
    if (LARGE_BODY_ROUTE.test(route.url)) route.bodyLimit = LARGE_BODY_LIMIT;
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, seconds);
    logger.info(
      {
        reqId: request.id,
        method: request.method,
        url: redactUrl(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
    done();
  });
  adapter.useBodyParser('application/json', false, { bodyLimit: DEFAULT_BODY_LIMIT }, parseJson);

  const app = await NestFactory.create<NestFastifyApplication>(
    options.rootModule,
    adapter,
    // Nest declares its options as a class but reads them as a plain object.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    { logger: new NestPinoLogger(logger), abortOnError: false },
  );
  app.useGlobalFilters(new BitwardenErrorFilter(logger));
  app.enableCors({ origin: true, credentials: false, maxAge: 600 });
  options.beforeInit?.(app);
  await app.init();
  return app;
}

/** SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close pools, exit 0. */
export function closeOnSignals(app: NestFastifyApplication, logger: Logger, deadlineMs = 4500): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, deadlineMs);
    deadline.unref();
    app.close().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
