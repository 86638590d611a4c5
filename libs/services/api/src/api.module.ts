import { SsoConfigController, SsoMemberController } from './sso/sso.controller';
import { Module } from '@nestjs/common';
import { AuthDomainModule, EmergencyAccessJobs } from '@keyhaven/domain-auth';
import { VaultDomainModule } from '@keyhaven/domain-vault';
import { ToolsDomainModule } from '@keyhaven/domain-tools';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { ComplianceReportsModule, EventsDomainModule, SiemWebhooksModule } from '@keyhaven/domain-events';
import { AccountRecoveryController } from './organizations/account-recovery.controller';
import { CollectionsController, MyCollectionsController } from './organizations/collections.controller';
import { GroupsController } from './organizations/groups.controller';
import { MembersController } from './organizations/members.controller';
import { OrganizationsController } from './organizations/organizations.controller';
import { PoliciesController } from './organizations/policies.controller';
import { DeviceApprovalsController } from './organizations/device-approvals.controller';
import {
  OrganizationDomainLookupController,
  OrganizationDomainsController,
} from './organizations/organization-domains.controller';
import { ReportsController } from './organizations/reports.controller';
import { SiemWebhookController } from './organizations/siem-webhook.controller';
import { ScimConnectionController } from './organizations/scim-connection.controller';
import { UsersController } from './organizations/users.controller';
import { PublicGroupsController } from './public/public-groups.controller';
import { PublicMembersController } from './public/public-members.controller';
import {
  PublicCollectionsController,
  PublicOrganizationController,
  PublicPoliciesController,
} from './public/public-organization.controller';
import { AccountsController } from './accounts/accounts.controller';
import { AuthRequestsController } from './accounts/auth-requests.controller';
import { DevicesController } from './accounts/devices.controller';
import { AccountKeyConnectorController, KeyConnectorController } from './accounts/key-connector.controller';
import { EmergencyAccessController } from './accounts/emergency-access.controller';
import { TempPasswordController } from './accounts/temp-password.controller';
import { SettingsController } from './accounts/settings.controller';
import { TwoFactorController } from './accounts/two-factor.controller';
import { TwoFactorProvidersController } from './accounts/two-factor-providers.controller';
import { NewDeviceVerificationController } from './accounts/new-device-verification.controller';
import { OrganizationTwoFactorController } from './organizations/organization-two-factor.controller';
import { ConfigController } from './config.controller';
import { AttachmentDownloadController, AttachmentsController } from './vault/attachments.controller';
import { CiphersController } from './vault/ciphers.controller';
import { FoldersController } from './vault/folders.controller';
import { SyncController } from './vault/sync.controller';
import { SendAccessController } from './tools/send-access.controller';
import { SendFilesController } from './tools/send-files.controller';
import { SendsController } from './tools/sends.controller';
import { OrganizationEventsController, PublicEventsController, UserEventsController } from './events/events.controller';

/** The API service: accounts, vault and sync, under `/api`. */
@Module({
  imports: [
    AuthDomainModule,
    VaultDomainModule,
    AdminConsoleDomainModule,
    ToolsDomainModule,
    ComplianceReportsModule,
    SiemWebhooksModule,
    EventsDomainModule,
  ],
  controllers: [
    SsoConfigController,
    SsoMemberController,
    ConfigController,
    AccountsController,
    TwoFactorController,
    TwoFactorProvidersController,
    NewDeviceVerificationController,
    OrganizationTwoFactorController,
    DevicesController,
    KeyConnectorController,
    AccountKeyConnectorController,
    AuthRequestsController,
    EmergencyAccessController,
    TempPasswordController,
    SettingsController,
    SyncController,
    FoldersController,
    CiphersController,
    AttachmentsController,
    AttachmentDownloadController,
    SendAccessController,
    SendsController,
    SendFilesController,
    ScimConnectionController,
    OrganizationsController,
    AccountRecoveryController,
    MembersController,
    CollectionsController,
    MyCollectionsController,
    GroupsController,
    PoliciesController,
    OrganizationDomainsController,
    OrganizationDomainLookupController,
    DeviceApprovalsController,
    ReportsController,
    SiemWebhookController,
    UsersController,
    PublicMembersController,
    PublicGroupsController,
    PublicCollectionsController,
    PublicPoliciesController,
    PublicOrganizationController,
    OrganizationEventsController,
    UserEventsController,
    PublicEventsController,
  ],
  // The hourly emergency-access jobs run where the API runs (one instance per round, under the Lock port).
  providers: [EmergencyAccessJobs],
})
export class ApiServiceModule {}
