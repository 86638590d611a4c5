import { Module } from '@nestjs/common';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { BillingDomainModule } from '@keyhaven/domain-billing';
import { ComplianceReportsModule } from '@keyhaven/domain-events';
import { AdminMiscController } from './api/admin-misc.controller';
import { AdminOrganizationsController } from './api/admin-organizations.controller';
import { AdminReportsController } from './api/admin-reports.controller';
import { AdminUsersController } from './api/admin-users.controller';
import { AdminAttempts } from './auth/admin-attempts';
import { AdminGuard } from './auth/admin.guard';
import { AdminSessions } from './auth/admin-sessions';
import { AdminToken } from './auth/admin-token';
import { DiagnosticsService } from './diagnostics/diagnostics.service';
import { PortalAccountsController } from './portal/portal-accounts.controller';
import { PortalBillingController } from './portal/portal-billing.controller';
import { PortalInsightsController } from './portal/portal-insights.controller';
import { PortalReportsController } from './portal/portal-reports.controller';
import { PortalLoginController } from './portal/login.controller';

/**
 * The admin service: mounted under `/admin` both in the all-in-one server and as its own app. Every
 * route answers 404 unless `ADMIN_TOKEN` is set, and takes only the admin token (Bearer) or a portal
 * session, never a user's token.
 */
@Module({
  imports: [AuthDomainModule, AdminConsoleDomainModule, ComplianceReportsModule, BillingDomainModule],
  controllers: [
    PortalLoginController,
    PortalAccountsController,
    PortalInsightsController,
    PortalReportsController,
    PortalBillingController,
    AdminUsersController,
    AdminOrganizationsController,
    AdminReportsController,
    AdminMiscController,
  ],
  providers: [AdminToken, AdminSessions, AdminAttempts, AdminGuard, DiagnosticsService],
})
export class AdminServiceModule {}
