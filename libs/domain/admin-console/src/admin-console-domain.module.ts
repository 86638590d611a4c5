import { Global, Module } from '@nestjs/common';
import { LOGIN_POLICIES, ORGANIZATION_CREDENTIALS, ORG_MEMBERSHIP_LOOKUP } from '@keyhaven/platform-auth';
import { LoginPoliciesService } from './login-policies';
import { OrganizationCredentialsService } from './organization-credentials';
import { AuthDomainModule, DeviceTrustService, TAKEOVER_MEMBERSHIPS } from '@keyhaven/domain-auth';
import { PushPublisher } from '@keyhaven/bus';
import { OutboundModule } from '@keyhaven/outbound';
import { AccountRecoveryMail } from './account-recovery/account-recovery-mail';
import { AccountRecoveryService } from './account-recovery/account-recovery.service';
import { TakeoverMembershipsService } from './account-recovery/takeover-memberships';
import { CollectionRepository } from './collection.repository';
import { CollectionsService } from './collections.service';
import { DirectoryImportService } from './directory-import.service';
import { GrantRules } from './grant-rules';
import { GroupRepository } from './group.repository';
import { GroupsService } from './groups.service';
import { MemberRepository } from './member.repository';
import { MembersService } from './members.service';
import { InvitationMail } from './members/invitation-mail.service';
import { MemberAcceptanceService } from './members/member-acceptance.service';
import { MemberConfirmationsService } from './members/member-confirmations.service';
import { MemberInvitationsService } from './members/member-invitations.service';
import { MemberListingService } from './members/member-listing.service';
import { MemberPolicyBlocks } from './members/member-policy-blocks.service';
import { MemberStatusService } from './members/member-status.service';
import { MemberUpdatesService } from './members/member-updates.service';
import { OrgAccess } from './org-access';
import { OrganizationRepository } from './organization.repository';
import { OrganizationsService } from './organizations.service';
import { PoliciesService } from './policies.service';
import { PolicyRepository } from './policy.repository';
import { DeviceApprovalsService } from './device-approvals/device-approvals.service';
import { KeyConnectorEnrolmentService } from './key-connector/key-connector-enrolment.service';
import { DomainTxtResolver } from './domains/domain-txt-resolver';
import { OrganizationDomainRepository } from './domains/organization-domain.repository';
import { OrganizationDomainsService } from './domains/organization-domains.service';
import {
  IdpAdapterRegistry,
  KEY_CONNECTOR_LOCATOR,
  SecretBox,
  SsoConfigRepository,
  SsoPendingRepository,
  TRUSTED_DEVICE_OPTIONS,
  OIDC_IDP_ADAPTER,
  OidcIdpAdapter,
  SAML_IDP_ADAPTER,
  SamlIdpAdapter,
  SamlSpKey,
  SamlSpService,
  SsoLoginService,
  SsoSettingsService,
  SsoProfileReader,
  SsoProvisioning,
  SsoUserRepository,
} from './sso';
import { OrganizationBillingState } from './organization-billing-state';
import { OrganizationDeletionHooks } from './organization-deletion';
import { SEAT_LIMIT, seatLimitProvider } from './seat-limit';
import { OffboardingService, OperatorActionsService, OperatorDirectory, OperatorEvents } from './operator';
import { ScimGroupsService, ScimRepository, ScimSetupService, ScimUsersService } from './scim';

const providers = [
  PushPublisher,
  AccountRecoveryMail,
  AccountRecoveryService,
  TakeoverMembershipsService,
  CollectionRepository,
  CollectionsService,
  DirectoryImportService,
  GrantRules,
  GroupRepository,
  GroupsService,
  MemberRepository,
  MembersService,
  MemberListingService,
  MemberInvitationsService,
  InvitationMail,
  MemberAcceptanceService,
  MemberConfirmationsService,
  MemberUpdatesService,
  MemberStatusService,
  MemberPolicyBlocks,
  OrgAccess,
  OrganizationRepository,
  OrganizationsService,
  PoliciesService,
  PolicyRepository,
  OperatorDirectory,
  OperatorEvents,
  OperatorActionsService,
  OffboardingService,
  DomainTxtResolver,
  OrganizationDomainRepository,
  OrganizationDomainsService,
  SecretBox,
  SsoConfigRepository,
  SsoPendingRepository,
  IdpAdapterRegistry,
  OrganizationBillingState,
  OrganizationDeletionHooks,
  ScimRepository,
  ScimSetupService,
  ScimUsersService,
  ScimGroupsService,
  DeviceApprovalsService,
  KeyConnectorEnrolmentService,
  OidcIdpAdapter,
  SamlIdpAdapter,
  SamlSpKey,
  SamlSpService,
  SsoUserRepository,
  SsoProvisioning,
  SsoLoginService,
  SsoSettingsService,
  SsoProfileReader,
];

/**
 * Organizations, members, collections, groups and policies. Global so that the identity domain
 * finds the organization API-key check and login policies, and `@OrgPermission` routes the membership
 * check, without depending on this module.
 */
@Global()
@Module({
  imports: [AuthDomainModule, OutboundModule],
  providers: [
    ...providers,
    OrganizationCredentialsService,
    LoginPoliciesService,
    { provide: ORGANIZATION_CREDENTIALS, useExisting: OrganizationCredentialsService },
    { provide: LOGIN_POLICIES, useExisting: LoginPoliciesService },
    { provide: ORG_MEMBERSHIP_LOOKUP, useExisting: OrgAccess },
    { provide: TAKEOVER_MEMBERSHIPS, useExisting: TakeoverMembershipsService },
    { provide: OIDC_IDP_ADAPTER, useExisting: OidcIdpAdapter },
    { provide: SAML_IDP_ADAPTER, useExisting: SamlIdpAdapter },
    seatLimitProvider,
    // The SSO token response reads trusted-device keys through this port (auth owns the device table).
    { provide: TRUSTED_DEVICE_OPTIONS, useExisting: DeviceTrustService },
    // Where the clients fetch Key Connector keys: the configured URL, or Keyhaven's own when it hosts one.
    { provide: KEY_CONNECTOR_LOCATOR, useExisting: KeyConnectorEnrolmentService },
  ],
  exports: [
    ...providers,
    SEAT_LIMIT,
    ORGANIZATION_CREDENTIALS,
    LOGIN_POLICIES,
    ORG_MEMBERSHIP_LOOKUP,
    TAKEOVER_MEMBERSHIPS,
    TRUSTED_DEVICE_OPTIONS,
    KEY_CONNECTOR_LOCATOR,
  ],
})
export class AdminConsoleDomainModule {}
