import { Global, Module } from '@nestjs/common';
import { TOKEN_VERIFIER } from '@keyhaven/platform-auth';
import { PushPublisher } from '@keyhaven/bus';
import { AccountAdministrationService } from './administration/account-administration.service';
import { AccountCredentialsService } from './accounts/account-credentials.service';
import { AccountsService } from './accounts/accounts.service';
import { AdminPasswordResetService } from './accounts/admin-password-reset.service';
import { TempPasswordService } from './accounts/temp-password.service';
import { AuthRequestRepository } from './auth-requests/auth-request.repository';
import { AuthRequestsService } from './auth-requests/auth-requests.service';
import { DeviceRepository } from './devices/device.repository';
import { DevicesService } from './devices/devices.service';
import { DeviceTrustService } from './devices/device-trust.service';
import { KeyConnectorAccounts } from './key-connector/key-connector-accounts';
import { KeyConnectorStore } from './key-connector/key-connector-store';
import { EmergencyAccessRecoveryService } from './emergency-access/emergency-access-recovery.service';
import { EmergencyAccessRepository } from './emergency-access/emergency-access.repository';
import { EmergencyAccessService } from './emergency-access/emergency-access.service';
import { AttemptLimiter } from './login/attempt-limiter';
import { LoginService } from './login/login.service';
import { ExternalAccountsService } from './accounts/external-accounts.service';
import { PasswordHasher } from './password-hasher';
import { AccessTokens } from './tokens/access-tokens';
import { RefreshTokens } from './tokens/refresh-tokens';
import { ServerSecrets } from './tokens/server-secrets';
import { SigningKeys } from './tokens/signing-keys';
import { TwoFactorSettingsService } from './two-factor/two-factor-settings.service';
import { TwoFactorService } from './two-factor/two-factor.service';
import { twoFactorProviders } from './two-factor/two-factor.providers';
import { AccountRevisionService } from './users/account-revision.service';
import { ActivityService } from './users/activity.service';
import { ProfileService } from './users/profile.service';
import { UserRepository } from './users/user.repository';

const providers = [
  AccountAdministrationService,
  AccountCredentialsService,
  AccountRevisionService,
  AccountsService,
  AdminPasswordResetService,
  TempPasswordService,
  ActivityService,
  AttemptLimiter,
  AuthRequestRepository,
  AuthRequestsService,
  DeviceRepository,
  DevicesService,
  DeviceTrustService,
  KeyConnectorAccounts,
  KeyConnectorStore,
  EmergencyAccessRecoveryService,
  EmergencyAccessRepository,
  EmergencyAccessService,
  LoginService,
  ExternalAccountsService,
  PasswordHasher,
  AccessTokens,
  RefreshTokens,
  ServerSecrets,
  SigningKeys,
  TwoFactorService,
  TwoFactorSettingsService,
  ...twoFactorProviders,
  ProfileService,
  UserRepository,
];

/**
 * Accounts, tokens, devices and two-step login. Global so that the app-wide auth guard finds the
 * token verifier in every service that mounts it.
 */
@Global()
@Module({
  providers: [...providers, PushPublisher, { provide: TOKEN_VERIFIER, useExisting: AccessTokens }],
  exports: [...providers, TOKEN_VERIFIER],
})
export class AuthDomainModule {}
