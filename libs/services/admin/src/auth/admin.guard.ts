import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { forbidden, notFound, unauthorized } from '@keyhaven/contracts';
import { AdminAttempts } from './admin-attempts';
import { AdminSessions, type AdminSession } from './admin-sessions';
import { AdminToken } from './admin-token';

/** How the caller proved to be the operator. */
export type AdminCaller = { readonly kind: 'token' } | { readonly kind: 'session'; readonly session: AdminSession };

export interface AdminRequest {
  readonly ip: string;
  readonly method: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body?: unknown;
  admin?: AdminCaller;
}

/** A portal page: without a session the handler answers the login page instead of 401. */
export const ADMIN_PAGE = 'keyhaven:adminPage';
export const AdminPage = (): MethodDecorator & ClassDecorator => SetMetadata(ADMIN_PAGE, true);
/** The login form itself: open without a session, still 404 when no admin token is configured. */
export const ADMIN_LOGIN = 'keyhaven:adminLogin';
export const AdminLogin = (): MethodDecorator & ClassDecorator => SetMetadata(ADMIN_LOGIN, true);

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function header(request: AdminRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Every route of the admin service (its controllers are `@Public()` for the user-token guard and use
 * this one instead): 404 when `ADMIN_TOKEN` is unset; `Authorization: Bearer <admin token>` for
 * scripts (a user's JWT is just a wrong token here); otherwise the portal's session cookie, with the
 * session's CSRF token on every state-changing request. Wrong tokens count against the address.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly token: AdminToken,
    private readonly sessions: AdminSessions,
    private readonly attempts: AdminAttempts,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.token.enabled) throw notFound();
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const flag = (key: string): boolean =>
      this.reflector.getAllAndOverride<boolean | undefined>(key, [context.getHandler(), context.getClass()]) === true;

    const authorization = header(request, 'authorization');
    if (authorization !== undefined) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
      await this.attempts.assertAllowed(request.ip);
      if (!bearer || !(await this.token.verify(bearer))) {
        await this.attempts.failed(request.ip);
        throw unauthorized('Invalid admin token.');
      }
      request.admin = { kind: 'token' };
      return true;
    }

    const session = await this.sessions.fromCookieHeader(header(request, 'cookie'));
    if (session) {
      if (!SAFE_METHODS.has(request.method)) {
        const body = request.body as Record<string, unknown> | undefined;
        const submitted = header(request, 'x-csrf-token') ?? body?.['_csrf'];
        if (!AdminSessions.csrfMatches(session, submitted)) throw forbidden('Missing or invalid CSRF token.');
      }
      request.admin = { kind: 'session', session };
      return true;
    }
    if (flag(ADMIN_LOGIN) || flag(ADMIN_PAGE)) return true;
    throw unauthorized();
  }
}
