import { Controller, Get, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ParseGuidPipe } from '@keyhaven/http';
import { Public } from '@keyhaven/platform-auth';
import { badRequest } from '@keyhaven/contracts';
import {
  OffboardingService,
  OperatorActionsService,
  OperatorDirectory,
  type OperatorUser,
} from '@keyhaven/domain-admin-console';
import { AdminGuard, AdminPage, type AdminRequest } from '../auth/admin.guard';
import { sendHtml } from './login.controller';
import { ROLE_NAMES, STATUS_NAMES, date, esc, form, page, table } from './html';

const USER_ACTIONS = ['disable', 'enable', 'deauth', 'remove-2fa', 'resend-invite', 'delete', 'offboard'] as const;
type UserAction = (typeof USER_ACTIONS)[number];

/** The session's CSRF token, or null when the page must send the browser to the login form. */
function csrfOf(request: AdminRequest, reply: FastifyReply): string | null {
  if (request.admin?.kind === 'session') return request.admin.session.csrf;
  if (request.admin?.kind === 'token') return '';
  void reply.redirect('/admin/login', 303);
  return null;
}

const back = (path: string, flash: string): string =>
  `${path}${path.includes('?') ? '&' : '?'}done=${encodeURIComponent(flash)}`;

/** Users and Organizations pages: server-rendered, each action a CSRF-protected form, destructive ones confirmed. */
@Public()
@UseGuards(AdminGuard)
@AdminPage()
@Controller('portal')
export class PortalAccountsController {
  constructor(
    private readonly directory: OperatorDirectory,
    private readonly actions: OperatorActionsService,
    private readonly offboarding: OffboardingService,
  ) {}

  @Get('users')
  async users(
    @Req() request: AdminRequest,
    @Res() reply: FastifyReply,
    @Query('search') search?: string,
    @Query('done') done?: string,
  ): Promise<void> {
    const csrf = csrfOf(request, reply);
    if (csrf === null) return;
    const users = await this.directory.users(search ?? null, 200);
    const rows = users.map((u) => [
      `<strong>${esc(u.email)}</strong><br><span class="muted">${esc(u.name)}</span>`,
      u.enabled ? '<span class="badge on">Enabled</span>' : '<span class="badge off">Disabled</span>',
      u.twoFactorEnabled ? 'On' : 'Off',
      date(u.lastActive),
      u.organizations
        .map(
          (o) =>
            `${esc(o.name)} <span class="muted">(${esc(ROLE_NAMES[o.type])}, ${esc(STATUS_NAMES[o.status])})</span>`,
        )
        .join('<br>') || '—',
      this.userActions(u, csrf),
    ]);
    const body = `<form method="get" action="/admin/portal/users" role="search"><label for="search">Search email or name<input id="search" name="search" type="search" value="${esc(search)}"></label><button type="submit">Search</button></form>
${table(['Account', 'Status', '2FA', 'Last active', 'Organizations', 'Actions'], rows, `${users.length} account(s)`)}`;
    sendHtml(reply, page({ title: 'Users', section: 'users', csrf, flash: done ?? null, body }));
  }

  @Post('users/:id/:action')
  async userAction(
    @Req() request: AdminRequest,
    @Res() reply: FastifyReply,
    @Param('id', ParseGuidPipe) id: string,
    @Param('action') action: string,
  ): Promise<void> {
    const csrf = csrfOf(request, reply);
    if (csrf === null) return;
    if (!(USER_ACTIONS as readonly string[]).includes(action)) throw badRequest('Unknown action.');
    const chosen = action as UserAction;
    if (chosen === 'offboard') {
      const result = await this.offboarding.offboard(id);
      const revoked = result.revokedFrom.map((r) => `<li>Revoked from ${esc(r.organizationName)}</li>`).join('');
      const body = `<p class="flash" role="status">${result.alreadyOffboarded ? 'Already offboarded: nothing left to do.' : `Offboarded ${esc(result.email)}.`}</p>
<ul class="offboard-result"><li>Account ${result.disabled ? 'disabled' : 'was already disabled'}</li>${revoked || '<li>No organization membership left to revoke</li>'}
<li>${result.sessionsEnded} session(s) ended; security stamp rotated (every token invalid)</li><li>${result.eventsRecorded} event(s) recorded</li></ul>
<p><a href="/admin/portal/users?search=${encodeURIComponent(result.email)}">Back to the account</a></p>`;
      sendHtml(reply, page({ title: 'Offboarding', section: 'users', csrf, body }));
      return;
    }
    const user = await this.actions.requireUser(id);
    let flash: string;
    switch (chosen) {
      case 'disable':
      case 'enable':
        await this.actions.setEnabled(id, chosen === 'enable');
        flash = `${user.email} ${chosen}d.`;
        break;
      case 'deauth':
        await this.actions.deauthorize(id);
        flash = `Every session of ${user.email} ended.`;
        break;
      case 'remove-2fa':
        await this.actions.removeTwoFactor(id);
        flash = `Two-step login of ${user.email} removed.`;
        break;
      case 'resend-invite':
        flash = `${await this.actions.resendInvitations(user.email)} invitation(s) sent again to ${user.email}.`;
        break;
      case 'delete':
        await this.actions.deleteUser(id);
        flash = `${user.email} deleted.`;
        break;
    }
    void reply.redirect(back(`/admin/portal/users?search=${encodeURIComponent(user.email)}`, flash), 303);
  }

  @Get('organizations')
  async organizations(
    @Req() request: AdminRequest,
    @Res() reply: FastifyReply,
    @Query('done') done?: string,
  ): Promise<void> {
    const csrf = csrfOf(request, reply);
    if (csrf === null) return;
    const orgs = await this.directory.organizations();
    const rows = orgs.map((o) => [
      `<a href="/admin/portal/organizations/${esc(o.id)}">${esc(o.name)}</a>`,
      esc(o.billingEmail),
      `${o.members}${o.seats !== null ? ` / ${o.seats}` : ''}`,
      String(o.revoked),
      date(o.creationDate),
      form(`/admin/portal/organizations/${o.id}/delete`, csrf, 'Delete', {
        className: 'danger',
        confirm: `Delete the organization ${o.name} with all its items and collections? This cannot be undone.`,
      }),
    ]);
    const body = table(
      ['Organization', 'Billing email', 'Members / seats', 'Revoked', 'Created', 'Actions'],
      rows,
      `${orgs.length} organization(s)`,
    );
    sendHtml(reply, page({ title: 'Organizations', section: 'organizations', csrf, flash: done ?? null, body }));
  }

  @Get('organizations/:id')
  async organization(
    @Req() request: AdminRequest,
    @Res() reply: FastifyReply,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<void> {
    const csrf = csrfOf(request, reply);
    if (csrf === null) return;
    const org = (await this.directory.organizations()).find((o) => o.id === id);
    const members = await this.directory.members(id);
    const rows = members.map((m) => [esc(m.email), esc(m.name), esc(ROLE_NAMES[m.type]), esc(STATUS_NAMES[m.status])]);
    const body = `<dl><dt>Seats</dt><dd>${org?.seats ?? 'unlimited'}</dd><dt>Members</dt><dd>${org?.members ?? 0}</dd><dt>Revoked</dt><dd>${org?.revoked ?? 0}</dd></dl>
${table(['Email', 'Name', 'Role', 'Status'], rows, 'Members and roles')}`;
    sendHtml(
      reply,
      page({ title: org ? `Organization ${org.name}` : 'Organization', section: 'organizations', csrf, body }),
    );
  }

  @Post('organizations/:id/delete')
  async deleteOrganization(
    @Req() request: AdminRequest,
    @Res() reply: FastifyReply,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<void> {
    if (csrfOf(request, reply) === null) return;
    await this.actions.deleteOrganization(id);
    void reply.redirect(back('/admin/portal/organizations', 'Organization deleted.'), 303);
  }

  private userActions(u: OperatorUser, csrf: string): string {
    const base = `/admin/portal/users/${u.id}`;
    return [
      u.enabled
        ? form(`${base}/disable`, csrf, 'Disable', { confirm: `Disable ${u.email}? Every session ends.` })
        : form(`${base}/enable`, csrf, 'Enable'),
      form(`${base}/deauth`, csrf, 'Deauthorize sessions', { confirm: `End every session of ${u.email}?` }),
      u.twoFactorEnabled
        ? form(`${base}/remove-2fa`, csrf, 'Remove 2FA', { confirm: `Remove two-step login of ${u.email}?` })
        : '',
      form(`${base}/resend-invite`, csrf, 'Resend invitations'),
      form(`${base}/offboard`, csrf, 'Offboard', {
        className: 'danger',
        confirm: `Offboard ${u.email}: disable the account, revoke it from every organization and end every session?`,
      }),
      form(`${base}/delete`, csrf, 'Delete', {
        className: 'danger',
        confirm: `Delete ${u.email} and their personal vault? This cannot be undone.`,
      }),
    ].join('');
  }
}
