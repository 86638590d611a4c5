/**
 * Domain errors. One global filter turns them into Bitwarden's ErrorResponseModel
 * (`{message, validationErrors, object: "error"}`); the message is for the user, never a log detail.
 */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable';

export type ValidationErrors = Record<string, string[]>;

export class KeyhavenError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly validationErrors: ValidationErrors | null = null,
    /** For 429: seconds until a retry may succeed. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'KeyhavenError';
  }
}

export const badRequest = (message: string, validationErrors: ValidationErrors | null = null): KeyhavenError =>
  new KeyhavenError('bad_request', message, validationErrors);

/** "Not found" and "not yours" are the same answer. */
export const notFound = (what = 'Resource'): KeyhavenError => new KeyhavenError('not_found', `${what} not found.`);

export const unauthorized = (message = 'Unauthorized.'): KeyhavenError => new KeyhavenError('unauthorized', message);

export const forbidden = (message = 'You do not have permission.'): KeyhavenError =>
  new KeyhavenError('forbidden', message);

export const conflict = (message: string): KeyhavenError => new KeyhavenError('conflict', message);

export const rateLimited = (retryAfterSeconds: number): KeyhavenError =>
  new KeyhavenError('rate_limited', 'Too many requests. Try again later.', null, retryAfterSeconds);

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'bad_request':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'too_large':
      return 413;
    case 'rate_limited':
      return 429;
    case 'unavailable':
      return 503;
  }
}

/** The body every API error has. */
export interface ErrorResponseBody {
  message: string;
  validationErrors: ValidationErrors | null;
  exceptionMessage?: null;
  object: 'error';
  errorId?: string;
}

export function errorBody(message: string, validationErrors: ValidationErrors | null = null): ErrorResponseBody {
  return { message, validationErrors, object: 'error' };
}
