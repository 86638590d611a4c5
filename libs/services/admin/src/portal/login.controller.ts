import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { forbidden } from '@keyhaven/contracts';
import { Public } from '@keyhaven/platform-auth';
import { OperatorEventType, OperatorEvents } from '@keyhaven/domain-admin-console';
import { Database } from '@keyhaven/db';
import { AdminAttempts } from '../auth/admin-attempts';
import { AdminGuard, AdminLogin, type AdminRequest } from '../auth/admin.guard';
import { AdminSessions, readCookie } from '../auth/admin-sessions';
import { AdminToken } from '../auth/admin-token';
import { PORTAL_CSS, PORTAL_JS } from './assets';
import { PORTAL_CSP, esc, page } from './html';

const LOGIN_CSRF_COOKIE = 'keyhaven_admin_login';

export function sendHtml(reply: FastifyReply, html: string, status = 200): void {
  void reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', PORTAL_CSP)
    .send(html);
}

/** Login and logout, the portal's assets, and `/admin` itself (to the users page or the login). */
@Public()
@UseGuards(AdminGuard)
@Controller()
export class PortalLoginController {
  constructor(
    private readonly token: AdminToken,
    private readonly sessions: AdminSessions,
    private readonly attempts: AdminAttempts,
    private readonly events: OperatorEvents,
    private readonly db: Database,
  ) {}

  @Get()
  @AdminLogin()
  root(@Req() request: AdminRequest, @Res() reply: FastifyReply): void {
    void reply.redirect(request.admin ? '/admin/portal/users' : '/admin/login', 303);
  }

  @Get('login')
  @AdminLogin()
  loginPage(@Res() reply: FastifyReply): void {
    this.renderLogin(reply, null, 200);
  }

  /**
   * The login form is protected by a double-submit token (a cookie and the same value in the form), so
   * another site cannot log a browser in; wrong tokens count against the address like Bearer ones.
   */
  @Post('login')
  @AdminLogin()
  @HttpCode(200)
  async login(@Req() request: AdminRequest, @Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const form = (body ?? {}) as Record<string, unknown>;
    const cookie = readCookie(request.headers['cookie'] as string | undefined, LOGIN_CSRF_COOKIE);
    if (!cookie || form['_csrf'] !== cookie) throw forbidden('Missing or invalid CSRF token.');
    await this.attempts.assertAllowed(request.ip);
    const candidate = typeof form['token'] === 'string' ? form['token'] : '';
    if (!(await this.token.verify(candidate))) {
      await this.attempts.failed(request.ip);
      this.renderLogin(reply, 'Wrong admin token.', 401);
      return;
    }
    const { cookie: sessionCookie } = await this.sessions.create(request.ip);
    await this.db.transaction(() => this.events.record({ type: OperatorEventType.Admin_LoggedIn }));
    void reply.header('set-cookie', [
      sessionCookie,
      `${LOGIN_CSRF_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; Secure; SameSite=Strict`,
    ]);
    void reply.redirect('/admin/portal/users', 303);
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Req() request: AdminRequest, @Res() reply: FastifyReply): Promise<void> {
    const cookies = request.admin?.kind === 'session' ? [await this.sessions.end(request.admin.session)] : [];
    void reply.header('set-cookie', cookies).redirect('/admin/login', 303);
  }

  @Get('assets/portal.css')
  @AdminLogin()
  css(@Res() reply: FastifyReply): void {
    void reply
      .header('content-type', 'text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(PORTAL_CSS);
  }

  @Get('assets/portal.js')
  @AdminLogin()
  js(@Res() reply: FastifyReply): void {
    void reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(PORTAL_JS);
  }

  private renderLogin(reply: FastifyReply, error: string | null, status: number): void {
    const csrf = randomBytes(32).toString('base64url');
    void reply.header(
      'set-cookie',
      `${LOGIN_CSRF_COOKIE}=${csrf}; Path=/admin; Max-Age=900; HttpOnly; Secure; SameSite=Strict`,
    );
    const body = `${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/admin/login" class="login"><input type="hidden" name="_csrf" value="${esc(csrf)}">
<label for="token">Admin token<input id="token" name="token" type="password" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button></form>`;
    sendHtml(reply, page({ title: 'Log in', body }), status);
  }
}
