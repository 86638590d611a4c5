import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KeyhavenError, errorBody, httpStatusOf, type ErrorResponseBody } from '@keyhaven/contracts';
import type { Logger } from 'pino';
import { OUTAGE_RETRY_AFTER_SECONDS, isDependencyOutage } from './outage';

/** Errors with their own wire body (the identity service's OAuth errors) implement this. */
export interface CustomErrorBody {
  readonly status: number;
  body(): unknown;
}

function isCustomErrorBody(error: unknown): error is CustomErrorBody {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as Partial<CustomErrorBody>).status === 'number' &&
    typeof (error as Partial<CustomErrorBody>).body === 'function'
  );
}

interface Mapped {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Turns anything thrown into Bitwarden's error shape; a 500 hides its detail behind an error id. */
export function mapError(error: unknown, logger: Logger, requestId: string): Mapped {
  if (error instanceof KeyhavenError) {
    const mapped: Mapped = { status: httpStatusOf(error.code), body: errorBody(error.message, error.validationErrors) };
    if (error.retryAfterSeconds !== undefined) mapped.headers = { 'retry-after': String(error.retryAfterSeconds) };
    return mapped;
  }
  if (isCustomErrorBody(error)) {
    const mapped: Mapped = { status: error.status, body: error.body() };
    const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof retryAfter === 'number') mapped.headers = { 'retry-after': String(Math.max(1, Math.ceil(retryAfter))) };
    return mapped;
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message = typeof response === 'object' && 'message' in response ? String(response.message) : error.message;
    return { status, body: errorBody(status === 404 ? 'Resource not found.' : message) };
  }
  // Fastify's own errors (malformed JSON, body too large, bad content type) carry a 4xx statusCode.
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, body: errorBody(clientErrorMessage(statusCode, error)) };
  }
  // A value the database refused is the client's (a gap in the edge validation): a 400 without a stack.
  const sqlState = sqlStateOf(error);
  if (sqlState && CLIENT_DATA_SQLSTATES.has(sqlState)) {
    logger.warn({ sqlState, reqId: requestId }, 'the database refused a value the edge validation let through');
    return { status: 400, body: errorBody('The request contains a value that cannot be stored.') };
  }
  // A unique index refused the write: a concurrent request took the value between the domain's own
  // check and this write, or a path without a check wrote a duplicate. The client's conflict, not ours.
  if (sqlState === UNIQUE_VIOLATION) {
    logger.warn({ sqlState, reqId: requestId }, 'a unique index refused a write');
    return {
      status: 409,
      body: errorBody('The request conflicts with an existing item: a value that must be unique is taken.'),
    };
  }
  if (isDependencyOutage(error)) {
    logger.warn({ err: loggableError(error), reqId: requestId }, 'a dependency is unavailable; answered 503');
    return {
      status: 503,
      body: errorBody('The service is temporarily unavailable. Try again shortly.'),
      headers: { 'retry-after': String(OUTAGE_RETRY_AFTER_SECONDS) },
    };
  }
  const errorId = randomUUID();
  logger.error({ err: loggableError(error), errorId, reqId: requestId }, 'unhandled error');
  const body: ErrorResponseBody = { ...errorBody('An unexpected error occurred.'), errorId };
  return { status: 500, body };
}

/**
 * What of an unexpected error may reach the log: name, message, code and stack. Database errors carry
 * the statement and its parameters (hashes, keys, vault data), which must never be logged.
 */
export function loggableError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: 'non-error thrown' };
  const code = (error as { code?: unknown }).code;
  const isQueryError = 'query' in error || 'parameters' in error || 'driverError' in error;
  return {
    name: error.name,
    message: isQueryError ? 'database query failed' : error.message,
    ...(typeof code === 'string' ? { code } : {}),
    stack: error.stack
      ?.split('\n')
      .slice(isQueryError ? 1 : 0)
      .join('\n'),
  };
}

/**
 * SQLSTATEs of values the database cannot hold: numeric out of range (22003), datetime overflow
 * (22008, 22007), NUL or bad encoding (22021, 22P05), malformed text for the column type (22P02),
 * Unicode escapes jsonb refuses (22P05 again, 22023 on some versions), nesting past its stack (54001).
 */
const CLIENT_DATA_SQLSTATES = new Set(['22003', '22007', '22008', '22021', '22P02', '22P05', '54001']);

const UNIQUE_VIOLATION = '23505';

function sqlStateOf(error: unknown): string | null {
  if (!(error instanceof Error) || !('query' in error || 'driverError' in error || 'severity' in error)) return null;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

function clientErrorMessage(status: number, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (status === 413) return 'The request body is too large.';
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'Unsupported content type.';
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'The request body is empty.';
  if (code === 'KEYHAVEN_NUL_IN_BODY') return 'Text may not contain NUL characters.';
  if (status === 400) return 'The request body is not valid JSON.';
  return 'The request could not be processed.';
}

/** `identity/connect/token` answers errors the OAuth way (`error`, `error_description`), as the clients parse them. */
function isTokenEndpoint(url: string): boolean {
  return /\/connect\/token\/?(\?|$)/i.test(url);
}

/** `/scim/v2/…` answers errors in RFC 7644 §3.12's shape, whatever raised them (router, body parser, domain). */
export function isScimPath(url: string): boolean {
  return /^\/scim\/v2(\/|\?|$)/i.test(url);
}

const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12's error body. */
export function scimErrorBody(status: number, detail: string): Record<string, unknown> {
  return { schemas: [SCIM_ERROR_SCHEMA], status: String(status), detail };
}

function scimBody(mapped: Mapped): unknown {
  const body = mapped.body as { schemas?: unknown; message?: unknown };
  if (Array.isArray(body.schemas)) return body;
  const detail = typeof body.message === 'string' ? body.message : 'The request could not be processed.';
  // RFC 7644 §3.12: a 409 is a uniqueness conflict.
  return mapped.status === 409
    ? { ...scimErrorBody(mapped.status, detail), scimType: 'uniqueness' }
    : scimErrorBody(mapped.status, detail);
}

function isBitwardenErrorBody(body: unknown): body is ErrorResponseBody {
  return typeof body === 'object' && body !== null && (body as { object?: unknown }).object === 'error';
}

function oauthBody(mapped: Mapped): Record<string, unknown> {
  const { message } = mapped.body as ErrorResponseBody;
  const error = mapped.status === 429 ? 'too_many_requests' : mapped.status >= 500 ? 'server_error' : 'invalid_request';
  return { error, error_description: message, ErrorModel: { Message: message, Object: 'error' } };
}

@Catch()
export class BitwardenErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const mapped = mapError(error, this.logger, request.id);
    if (isTokenEndpoint(request.url) && isBitwardenErrorBody(mapped.body)) mapped.body = oauthBody(mapped);
    if (isScimPath(request.url)) {
      mapped.body = scimBody(mapped);
      void reply.header('content-type', 'application/scim+json; charset=utf-8');
    }
    if (mapped.headers) void reply.headers(mapped.headers);
    void reply.status(mapped.status).send(mapped.body);
  }
}
