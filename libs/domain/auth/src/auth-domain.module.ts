import { Global, Module } from '@nestjs/common';
import { TOKEN_VERIFIER } from '@keyhaven/platform-auth';
import { AccountsService } from './accounts/accounts.service';
import { DeviceRepository } from './devices/device.repository';
import { LoginService } from './login/login.service';
import { PasswordHasher } from './password-hasher';
import { AccessTokens } from './tokens/access-tokens';
import { RefreshTokens } from './tokens/refresh-tokens';
import { SigningKeys } from './tokens/signing-keys';
import { TwoFactorService } from './two-factor/two-factor.service';
import { AccountRevisionService } from './users/account-revision.service';
import { UserRepository } from './users/user.repository';

const providers = [
  AccountRevisionService,
  AccountsService,
  DeviceRepository,
  LoginService,
  PasswordHasher,
  AccessTokens,
  RefreshTokens,
  SigningKeys,
  TwoFactorService,
  UserRepository,
];

/**
 * Accounts, tokens, devices and two-step login. Global so that the app-wide auth guard finds the
 * token verifier in every service that mounts it.
 */
@Global()
@Module({
  providers: [...providers, { provide: TOKEN_VERIFIER, useExisting: AccessTokens }],
  exports: [...providers, TOKEN_VERIFIER],
})
export class AuthDomainModule {}
