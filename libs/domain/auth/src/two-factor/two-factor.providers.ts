import { NewDeviceSettingsService } from '../login/new-device-settings.service';
import { NewDeviceVerification } from '../login/new-device-verification';
import { TwoFactorGate } from '../login/two-factor-gate';
import { EmailLoginService } from './email-login.service';
import { EmailTwoFactorService } from './email-two-factor.service';
import { OneTimeCodes } from './one-time-codes';
import { TwoFactorProviderRepository } from './provider.repository';
import { TwoFactorProvidersService } from './two-factor-providers.service';
import { UserVerificationTokens } from './user-verification';
import { WebAuthnCredentialRepository } from './webauthn-credential.repository';
import { WebAuthnService } from './webauthn.service';

/** The two-step login and new-device verification classes the auth module provides and exports. */
export const twoFactorProviders = [
  EmailLoginService,
  EmailTwoFactorService,
  NewDeviceSettingsService,
  NewDeviceVerification,
  OneTimeCodes,
  TwoFactorGate,
  TwoFactorProviderRepository,
  TwoFactorProvidersService,
  UserVerificationTokens,
  WebAuthnCredentialRepository,
  WebAuthnService,
];
