import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { assertStorableJson, assertStorableText, errorBody, stringifyJson } from '@keyhaven/contracts';
import { BitwardenErrorFilter, isScimPath, scimErrorBody } from './error-filter';
import { NestPinoLogger, redactUrl } from './logger';
import { httpDuration } from './metrics';
import {
  DEFAULT_HTTP_HYGIENE,
  corsOriginAllowed,
  installSecurityHeaders,
  serverTimeouts,
  type HttpHygiene,
} from './hygiene';
import { TLS_HARDENING, type TlsMaterial } from './tls';
import { registerMultipart } from './multipart';
import { requestContextOf, runWithRequestContext } from './request-context';
import { ConnectionTracker, stopAccepting, type Lifecycle } from './lifecycle';

export interface HttpAppOptions {
  readonly rootModule: Type | DynamicModule;
  readonly logger: Logger;
  readonly tls?: TlsMaterial | undefined;
  readonly trustProxy: boolean;
  /** CORS origin, timeouts and connection cap; DOMAIN `https://localhost:8443` and the defaults otherwise. */
  readonly hygiene?: Partial<HttpHygiene> | undefined;
  /** Runs after the application is built and before it initialises (e.g. to install a WebSocket adapter). */
  readonly beforeInit?: ((app: NestFastifyApplication) => void) | undefined;
  /** Readiness and drain state; while not ready every response asks the client to close its connection. */
  readonly lifecycle?: Lifecycle | undefined;
}

/** Default body cap; imports and attachments get LARGE_BODY_LIMIT. */
export const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;
export const LARGE_BODY_LIMIT = 64 * 1024 * 1024;
const LARGE_BODY_ROUTE = /\/(import|import-organization|attachment(\/[^/]+)?|file(\/[^/]+)?)$/;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Decides, before a large body is read, whether the caller may send it now (the per-user limits on
 * imports): refusing after reading 64 MiB would let one user make the server read and parse any
 * number of them at once. Provided under PRE_PARSE_ADMISSION by the auth layer; throws to refuse.
 */
export interface PreParseAdmission {
  admit(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}
export const PRE_PARSE_ADMISSION = Symbol('PRE_PARSE_ADMISSION');

function requestIdOf(request: { headers: Record<string, string | string[] | undefined> }): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Bodies: an empty JSON body means `{}` (clients POST some actions without one). Every parsed body is
 * walked once for what the store cannot hold — nesting past MAX_JSON_DEPTH, NUL, lone UTF-16
 * surrogates (PostgreSQL refuses them in `text` and `jsonb`) — and refused with a 400 naming the field.
 */
/** The bytes of each JSON body as received, for the few routes that verify a signature over them (webhooks). */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

/** A JSON request's body exactly as it arrived (undefined for other content types). */
export function rawBodyOf(request: FastifyRequest): Buffer | undefined {
  return rawBodies.get(request);
}

function parseJson(request: FastifyRequest, body: Buffer, done: (error: Error | null, parsed?: unknown) => void): void {
  rawBodies.set(request, body);
  if (body.length === 0) {
    done(null, {});
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    done(Object.assign(new Error('invalid JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }));
    return;
  }
  try {
    assertStorableJson(parsed);
  } catch (error) {
    done(error as Error);
    return;
  }
  done(null, parsed);
}

/**
 * Form bodies (the token endpoint's, but Fastify would hand any route one): repeated names become
 * lists, and the values pass the same check as a JSON body's.
 */
function parseForm(
  _request: FastifyRequest,
  body: Buffer,
  done: (error: Error | null, parsed?: unknown) => void,
): void {
  const form: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (name === '__proto__' || name === 'constructor' || name === 'prototype') continue;
    const existing = Object.hasOwn(form, name) ? form[name] : undefined;
    form[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  try {
    assertStorableJson(form);
  } catch (error) {
    done(error as Error);
    return;
  }
  done(null, form);
}

/** Path parameters, query values and headers are text the store may be handed: no NUL, no lone surrogates. */
function assertStorableStrings(values: unknown, where: string): void {
  if (typeof values !== 'object' || values === null) return;
  for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (typeof item === 'string') assertStorableText(item, `${where} ${name}`);
    }
  }
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (a header block over the size limit,
 * a malformed request line): answered in Bitwarden's error shape rather than Fastify's own.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431
      ? 'The request headers are too large.'
      : status === 408
        ? 'The request took too long.'
        : 'The request is malformed.';
  const body = JSON.stringify(errorBody(message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * The router's own refusals (a URL that does not decode, a path parameter over its length): Bitwarden's
 * shape, or SCIM's error body (RFC 7644 §3.12) under `/scim/v2`, as every other SCIM error.
 */
function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 400;
  const message = status === 414 ? 'The request URL is too long.' : 'The request URL is not valid.';
  if (isScimPath(request.url)) {
    void reply
      .code(status)
      .header('content-type', 'application/scim+json; charset=utf-8')
      .send(scimErrorBody(status, message));
    return;
  }
  void reply.code(status).send(errorBody(message));
}

/** Seconds a 429 without its own Retry-After asks the client to wait (the login limits' window). */
const DEFAULT_RETRY_AFTER_SECONDS = '60';

/** A Nest application on Fastify, with Keyhaven's error shape, request ids, logs and metrics. */
export async function createHttpApp(options: HttpAppOptions): Promise<NestFastifyApplication> {
  const { logger } = options;
  const hygiene: HttpHygiene = { domain: 'https://localhost:8443', ...DEFAULT_HTTP_HYGIENE, ...options.hygiene };
  const timeouts = serverTimeouts(hygiene);
  const adapter = new FastifyAdapter({
    ...(options.tls
      ? { https: { key: options.tls.key, cert: options.tls.cert, ...TLS_HARDENING, ...timeouts } }
      : { http: timeouts }),
    requestTimeout: timeouts.requestTimeout,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    bodyLimit: DEFAULT_BODY_LIMIT,
    trustProxy: options.trustProxy,
    genReqId: requestIdOf,
    logger: false,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false },
    clientErrorHandler,
    frameworkErrors,
  });
  const fastify = adapter.getInstance();
  if (hygiene.maxConnections > 0) fastify.server.maxConnections = hygiene.maxConnections;
  installSecurityHeaders(fastify, options.tls !== undefined);
  // Known once the application is built; the hook runs only for requests, which come after that.
  const admission: { current?: PreParseAdmission | undefined } = {};
  fastify.addHook('onRoute', (route) => {
    if (!LARGE_BODY_ROUTE.test(route.url)) return;
    route.bodyLimit = LARGE_BODY_LIMIT;
    const earlier = route.preParsing ? [route.preParsing].flat() : [];
    route.preParsing = [
      ...earlier,
      async (request, reply, payload) => {
        if (admission.current) await admission.current.admit(request, reply);
        return payload;
      },
    ];
  });
  const lifecycle = options.lifecycle;
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    // Draining: the proxy (or client) opens its next connection elsewhere instead of reusing this one.
    if (lifecycle && !lifecycle.ready) void reply.header('connection', 'close');
    try {
      assertStorableStrings(request.headers, 'header');
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });
  fastify.addHook('preValidation', (request, _reply, done) => {
    try {
      assertStorableStrings(request.params, 'path');
      assertStorableStrings(request.query, 'query');
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });
  // The audit log's request context (acting user, device type, address): opened last before the
  // handler, so the guard and the handler, and everything they await, run inside it.
  fastify.addHook('preHandler', (request, _reply, done) => {
    runWithRequestContext(requestContextOf(request), done);
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.statusCode === 429 && !reply.hasHeader('retry-after')) {
      void reply.header('retry-after', DEFAULT_RETRY_AFTER_SECONDS);
    }
    done(null, payload);
  });
  // No stored value can make a read fail: JSON.stringify overflows the stack on values nested a few
  // thousand levels deep, and such a value stored before the depth limit existed must still be served.
  fastify.setReplySerializer((payload) => stringifyJson(payload) ?? '');
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
  // SCIM clients (identity providers) send RFC 7644's media type; the same JSON rules apply.
  adapter.useBodyParser('application/scim+json', false, { bodyLimit: DEFAULT_BODY_LIMIT }, parseJson);
  adapter.useBodyParser('application/x-www-form-urlencoded', false, { bodyLimit: DEFAULT_BODY_LIMIT }, parseForm);

  const app = await NestFactory.create<NestFastifyApplication>(
    options.rootModule,
    adapter,
    // Nest declares its options as a class but reads them as a plain object.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    { logger: new NestPinoLogger(logger), abortOnError: false },
  );
  await registerMultipart(fastify);
  admission.current = optionalProvider<PreParseAdmission>(app, PRE_PARSE_ADMISSION);
  app.useGlobalFilters(new BitwardenErrorFilter(logger));
  const allowed = corsOriginAllowed(hygiene.domain);
  app.enableCors({
    origin: (origin: string | undefined, callback: (error: Error | null, allow: boolean) => void) => {
      callback(null, allowed(origin));
    },
    credentials: true,
    maxAge: 600,
  });
  options.beforeInit?.(app);
  await app.init();
  return app;
}

/** A provider the application may or may not have (services that issue no tokens have no admission). */
function optionalProvider<T>(app: NestFastifyApplication, token: symbol): T | undefined {
  try {
    return app.get<symbol, T>(token, { strict: false });
  } catch {
    return undefined;
  }
}

export interface ShutdownOptions {
  readonly lifecycle: Lifecycle;
  /** Milliseconds between failing readiness and closing the listener (SHUTDOWN_DELAY_MS). */
  readonly delayMs: number;
  /** Longest wait, once the listener is closed, for requests and connections to end (SHUTDOWN_DRAIN_MS). */
  readonly drainMs: number;
  /** Time left after the drain for closing pools and consumers before the process gives up. */
  readonly closeMs?: number;
}

/**
 * SIGTERM/SIGINT, in order: readiness fails at once (`/healthz` 503, responses carry `Connection: close`), the
 * listener keeps accepting for `delayMs` (probes and endpoint lists catch up), then stops accepting (a proxy's
 * new connection is refused and goes to another instance, whatever its method); hub clients are told to
 * reconnect; in-flight requests finish and kept-alive connections are left to their clients to close, for at
 * most `drainMs`; then the application closes (consumers, pools) and the process exits 0.
 */
export function closeOnSignals(app: NestFastifyApplication, logger: Logger, options: ShutdownOptions): void {
  const { lifecycle, delayMs, drainMs, closeMs = 5000 } = options;
  const server: HttpServer = app.getHttpServer();
  const connections = new ConnectionTracker(server);
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    lifecycle.startDraining();
    logger.info({ signal, delayMs, drainMs }, 'shutting down: not ready, draining');
    const deadline = setTimeout(
      () => {
        logger.error('shutdown did not finish in time; exiting');
        process.exit(1);
      },
      delayMs + drainMs + closeMs,
    );
    deadline.unref();
    const drain = async (): Promise<void> => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (drainMs > 0) {
        stopAccepting(server);
        lifecycle.markClosed();
        const drained = await connections.whenIdle(drainMs);
        logger.info({ drained, openConnections: connections.openSockets, inFlight: connections.inFlight }, 'drained');
      } else {
        lifecycle.markClosed();
      }
      await app.close();
    };
    drain().then(
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
