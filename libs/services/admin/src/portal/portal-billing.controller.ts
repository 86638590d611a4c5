import { Controller, Get, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '@keyhaven/platform-auth';
import { BillingOverview } from '@keyhaven/domain-billing';
import { AdminGuard, AdminPage, type AdminRequest } from '../auth/admin.guard';
import { barChart } from './charts';
import { sendHtml } from './login.controller';
import { date, esc, page, table } from './html';
import { cell, csrfOf } from './portal-insights.controller';

const STANDING_BADGE: Record<string, string> = { active: 'on', grace: 'warn', disabled: 'off' };

/** Revenue per month as bars, one chart per currency, the months without payments included. */
function revenueCharts(
  revenue: readonly { month: string; currency: string; amount: number }[],
  now = new Date(),
): string {
  const currencies = [...new Set(revenue.map((r) => r.currency))];
  if (currencies.length === 0) return '<p class="empty">No payments yet.</p>';
  const months: string[] = [];
  for (let i = 11; i >= 0; i--) {
    months.push(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1)).toISOString().slice(0, 7));
  }
  return currencies
    .map((currency) =>
      barChart(
        `Revenue per month (${currency.toUpperCase()})`,
        months.map((month) => ({
          label: month,
          // Stripe amounts are in minor units.
          value: (revenue.find((r) => r.month === month && r.currency === currency)?.amount ?? 0) / 100,
        })),
      ),
    )
    .join('');
}

/** Billing: every subscription with its seats used and paid, and revenue per month. */
@Public()
@UseGuards(AdminGuard)
@AdminPage()
@Controller('portal')
export class PortalBillingController {
  constructor(private readonly overview: BillingOverview) {}

  @Get('billing')
  async billing(@Req() request: AdminRequest, @Res() reply: FastifyReply): Promise<void> {
    const csrf = csrfOf(request, reply);
    if (csrf === null) return;
    const data = await this.overview.read(12);
    if (!data.enabled) {
      const body =
        '<p class="empty">Billing is off (<code>BILLING=off</code>): every organization has unlimited seats.</p>';
      sendHtml(reply, page({ title: 'Billing', section: 'billing', csrf, body }));
      return;
    }
    const rows = data.subscriptions.map((s) => [
      `<a href="/admin/portal/organizations/${esc(s.organizationId)}">${esc(s.organizationName)}</a>`,
      cell(s.plan),
      `<span class="badge ${STANDING_BADGE[s.standing] ?? ''}">${esc(s.standing)}</span> ${esc(s.stripeStatus)}`,
      `${s.seatsUsed} / ${s.seatsPaid}`,
      date(s.periodEnd) + (s.cancelAtPeriodEnd ? ' (cancels)' : ''),
      date(s.graceEnds),
    ]);
    const seatsUsed = data.subscriptions.reduce((n, s) => n + s.seatsUsed, 0);
    const seatsPaid = data.subscriptions.reduce((n, s) => n + s.seatsPaid, 0);
    const body = `<dl><dt>Subscriptions</dt><dd>${data.subscriptions.length}</dd><dt>Seats used / paid</dt><dd>${seatsUsed} / ${seatsPaid}</dd></dl>
${revenueCharts(data.revenue)}
<h2>Subscriptions</h2>${table(
      ['Organization', 'Plan', 'Standing', 'Seats used / paid', 'Period ends', 'Grace ends'],
      rows,
      `${data.subscriptions.length} subscription(s)`,
    )}`;
    sendHtml(reply, page({ title: 'Billing', section: 'billing', csrf, body }));
  }
}
