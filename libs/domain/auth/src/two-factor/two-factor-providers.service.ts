import { Injectable } from '@nestjs/common';
import { EventType, badRequest } from '@keyhaven/contracts';
import { EmailTwoFactorService } from './email-two-factor.service';
import { TwoFactorProviderRepository } from './provider.repository';
import { TwoFactorSettingsService, type SecretVerification } from './two-factor-settings.service';
import { TwoFactorProvider } from './two-factor.service';
import { WebAuthnService, type WebAuthnDeviceResponse } from './webauthn.service';

type Token = string | null | undefined;

export interface WebAuthnSettings {
  enabled: boolean;
  keys: { id: number; name: string; migrated: boolean }[];
}

/** Why Duo and YubiKey can be looked at but not turned on here (README "Two-step login"). */
const NEEDS_OUTSIDE_SERVICE = (provider: string): Error =>
  badRequest(
    `${provider} two-step login needs an outside verification service that this server does not use; choose an authenticator app, email or a WebAuthn security key.`,
  );

/** Email, WebAuthn, Duo and YubiKey settings in the 2026 shapes: `get-*` proves, the token carries. */
@Injectable()
export class TwoFactorProvidersService {
  constructor(
    private readonly settings: TwoFactorSettingsService,
    private readonly email: EmailTwoFactorService,
    private readonly webAuthn: WebAuthnService,
    private readonly providers: TwoFactorProviderRepository,
  ) {}

  async getEmail(
    userId: string,
    secret: SecretVerification,
  ): Promise<{ email: { enabled: boolean; email: string | null }; userVerificationToken: string }> {
    const user = await this.settings.verifySecret(userId, secret);
    const current = await this.email.settings(user.id);
    return {
      email: { enabled: current.enabled, email: current.email ?? user.email },
      userVerificationToken: await this.settings.issueToken(user, TwoFactorProvider.Email),
    };
  }

  async sendEmailSetupCode(userId: string, request: { email: string; userVerificationToken?: Token }): Promise<void> {
    const user = await this.settings.verifiedUser(userId, TwoFactorProvider.Email, request.userVerificationToken);
    await this.email.sendSetupCode(user, request.email);
  }

  async enableEmail(
    userId: string,
    request: { email: string; token: string; userVerificationToken?: Token },
  ): Promise<{ enabled: boolean; email: string }> {
    const user = await this.settings.verifiedUser(userId, TwoFactorProvider.Email, request.userVerificationToken);
    await this.email.enable(user, request.email, request.token);
    await this.settings.recordChange(EventType.User_Updated2fa, user.id);
    return { enabled: true, email: request.email.trim().toLowerCase() };
  }

  /** True when email two-step login really went off. */
  async disableEmail(userId: string, token: Token): Promise<boolean> {
    const user = await this.settings.verifiedUser(userId, TwoFactorProvider.Email, token);
    const disabled = await this.email.disable(user.id);
    if (disabled) await this.settings.recordChange(EventType.User_Disabled2fa, user.id);
    return disabled;
  }

  async webAuthnSettings(userId: string): Promise<WebAuthnSettings> {
    const keys = await this.webAuthn.keys(userId);
    return { enabled: keys.length > 0, keys: keys.map((k) => ({ id: k.slot, name: k.name, migrated: false })) };
  }

  async getWebAuthn(
    userId: string,
    secret: SecretVerification,
  ): Promise<{ webAuthn: WebAuthnSettings; userVerificationToken: string }> {
    const user = await this.settings.verifySecret(userId, secret);
    return {
      webAuthn: await this.webAuthnSettings(user.id),
      userVerificationToken: await this.settings.issueToken(user, TwoFactorProvider.WebAuthn),
    };
  }

  async webAuthnChallenge(userId: string, token: Token): Promise<Record<string, unknown>> {
    const user = await this.settings.verifiedUser(userId, TwoFactorProvider.WebAuthn, token);
    return this.webAuthn.registrationOptions(user);
  }

  async putWebAuthn(
    userId: string,
    request: { id: number; name: string; userVerificationToken?: Token; deviceResponse: WebAuthnDeviceResponse },
  ): Promise<WebAuthnSettings> {
    const user = await this.settings.verifiedUser(userId, TwoFactorProvider.WebAuthn, request.userVerificationToken);
    await this.webAuthn.register(user, request.id, request.name, request.deviceResponse);
    await this.settings.recordChange(EventType.User_Updated2fa, user.id);
    return this.webAuthnSettings(user.id);
  }

  async deleteWebAuthn(
    userId: string,
    request: { id: number; userVerificationToken?: Token },
  ): Promise<WebAuthnSettings> {
    const user = await this.settings.verifiedUser(userId, TwoFactorProvider.WebAuthn, request.userVerificationToken);
    await this.webAuthn.remove(user.id, request.id);
    await this.settings.recordChange(EventType.User_Disabled2fa, user.id);
    return this.webAuthnSettings(user.id);
  }

  async deleteAllWebAuthn(userId: string, token: Token): Promise<void> {
    const user = await this.settings.verifiedUser(userId, TwoFactorProvider.WebAuthn, token);
    await this.webAuthn.removeAll(user.id);
    await this.settings.recordChange(EventType.User_Disabled2fa, user.id);
  }

  /** YubiKey OTPs are verified by YubiCloud, which this server does not call: shown, never enabled. */
  async getYubiKey(
    userId: string,
    secret: SecretVerification,
  ): Promise<{ yubiKey: Record<string, unknown>; userVerificationToken: string }> {
    const user = await this.settings.verifySecret(userId, secret);
    const row = await this.providers.find(user.id, TwoFactorProvider.YubiKey);
    const data = row?.data ?? {};
    const key = (n: number): string | null =>
      typeof data[`key${n}`] === 'string' ? (data[`key${n}`] as string) : null;
    return {
      yubiKey: {
        enabled: false,
        key1: key(1),
        key2: key(2),
        key3: key(3),
        key4: key(4),
        key5: key(5),
        nfc: data['nfc'] === true,
      },
      userVerificationToken: await this.settings.issueToken(user, TwoFactorProvider.YubiKey),
    };
  }

  async putYubiKey(userId: string, token: Token): Promise<never> {
    await this.settings.verifiedUser(userId, TwoFactorProvider.YubiKey, token);
    throw NEEDS_OUTSIDE_SERVICE('YubiKey OTP');
  }

  /** Duo's Universal Prompt is Duo's service; settings are shown (secret masked), never enabled. */
  async getDuo(
    userId: string,
    secret: SecretVerification,
  ): Promise<{ duo: Record<string, unknown>; userVerificationToken: string }> {
    const user = await this.settings.verifySecret(userId, secret);
    const row = await this.providers.find(user.id, TwoFactorProvider.Duo);
    const data = row?.data ?? {};
    const text = (name: string): string | null => {
      const value = data[name];
      return typeof value === 'string' ? value : null;
    };
    const clientSecret = text('clientSecret');
    return {
      duo: {
        enabled: false,
        host: text('host'),
        clientId: text('clientId'),
        clientSecret: clientSecret
          ? `${clientSecret.slice(0, 6)}${'*'.repeat(Math.max(0, clientSecret.length - 6))}`
          : null,
      },
      userVerificationToken: await this.settings.issueToken(user, TwoFactorProvider.Duo),
    };
  }

  async putDuo(userId: string, token: Token): Promise<never> {
    await this.settings.verifiedUser(userId, TwoFactorProvider.Duo, token);
    throw NEEDS_OUTSIDE_SERVICE('Duo');
  }

  /**
   * An organization's Duo (provider 6), shape only: nothing can be turned on, so nothing is stored;
   * the caller (an owner, checked by the route) proves the master password as for their own providers.
   */
  async getOrganizationDuo(
    userId: string,
    secret: SecretVerification,
  ): Promise<{ duo: Record<string, unknown>; userVerificationToken: string }> {
    const user = await this.settings.verifySecret(userId, secret);
    return {
      duo: { enabled: false, host: null, clientId: null, clientSecret: null },
      userVerificationToken: await this.settings.issueToken(user, TwoFactorProvider.OrganizationDuo),
    };
  }

  async putOrganizationDuo(userId: string, token: Token): Promise<never> {
    await this.settings.verifiedUser(userId, TwoFactorProvider.OrganizationDuo, token);
    throw NEEDS_OUTSIDE_SERVICE('Duo');
  }

  async deleteOrganizationDuo(userId: string, token: Token): Promise<void> {
    await this.settings.verifiedUser(userId, TwoFactorProvider.OrganizationDuo, token);
  }

  async deleteOutsideProvider(userId: string, provider: 2 | 3, token: Token): Promise<void> {
    const user = await this.settings.verifiedUser(userId, provider, token);
    await this.providers.remove(user.id, provider);
    await this.settings.recordChange(EventType.User_Disabled2fa, user.id);
  }
}
