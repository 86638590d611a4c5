import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { badRequest } from '@keyhaven/contracts';
import { MAILER, type Mailer } from '@keyhaven/mail';
import type { User } from '../users/user';
import { OneTimeCodes } from './one-time-codes';
import { TwoFactorProviderRepository } from './provider.repository';
import { TwoFactorProvider } from './two-factor.service';

/** `te***@example.com`: enough for the user to recognise the address, not enough to harvest it. */
export function redactEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  const local = email.slice(0, at);
  return `${local.slice(0, Math.min(2, local.length))}***${email.slice(at)}`;
}

/** The email provider (1): setup with a mailed code, and the login codes. */
@Injectable()
export class EmailTwoFactorService {
  constructor(
    private readonly providers: TwoFactorProviderRepository,
    private readonly codes: OneTimeCodes,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** The address codes go to when email two-step login is on, else null. */
  async enabledAddress(userId: string): Promise<string | null> {
    const row = await this.providers.find(userId, TwoFactorProvider.Email);
    const email = row?.data['email'];
    return row?.enabled && typeof email === 'string' ? email : null;
  }

  async settings(userId: string): Promise<{ enabled: boolean; email: string | null }> {
    const row = await this.providers.find(userId, TwoFactorProvider.Email);
    const email = row?.data['email'];
    return { enabled: row?.enabled ?? false, email: typeof email === 'string' ? email : null };
  }

  /** Mails the setup code to the address being enrolled. Without mail delivery the provider cannot work. */
  async sendSetupCode(user: User, email: string): Promise<void> {
    this.requireDelivery();
    const code = await this.codes.issue(user, 'email-setup', email.trim().toLowerCase());
    await this.mailer.send({
      to: email,
      subject: 'Keyhaven: your verification code',
      text: `Your code to turn on two-step login by email: ${code}\n\nIt is valid for 5 minutes. If you did not ask for it, change your master password.`,
    });
  }

  /** Enrolment completes only with the code mailed to that very address. */
  async enable(user: User, email: string, token: string): Promise<void> {
    const address = email.trim().toLowerCase();
    if ((await this.codes.consume(user, 'email-setup', token, address)) !== 'ok') {
      throw badRequest('Invalid token.', { Token: ['Invalid token.'] });
    }
    await this.providers.save(user.id, TwoFactorProvider.Email, true, { email: address });
  }

  async disable(userId: string): Promise<boolean> {
    const was = (await this.enabledAddress(userId)) !== null;
    await this.providers.remove(userId, TwoFactorProvider.Email);
    return was;
  }

  /** Mails a login code; false when email two-step login is not on for the account. */
  async sendLoginCode(user: User): Promise<boolean> {
    const address = await this.enabledAddress(user.id);
    if (!address) return false;
    const code = await this.codes.issue(user, 'email-login', address);
    await this.mailer.send({
      to: address,
      subject: 'Keyhaven: your two-step login code',
      text: `Your two-step login code: ${code}\n\nIt is valid for 5 minutes and can be used once. Someone who asks for it is not from ${this.config.DOMAIN}.`,
    });
    return true;
  }

  async verifyLoginCode(user: User, token: string): Promise<boolean> {
    return (await this.codes.consume(user, 'email-login', token)) === 'ok';
  }

  private requireDelivery(): void {
    if (!this.mailer.delivers) {
      throw badRequest(
        'Two-step login by email needs outgoing mail, which is not configured on this server (SMTP_HOST).',
      );
    }
  }
}
