import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
}

export interface Mailer {
  /** False when mail is only logged: callers then hand links to the user directly. */
  readonly delivers: boolean;
  send(message: MailMessage): Promise<void>;
  ping(): Promise<void>;
  close(): void;
}

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly security: 'starttls' | 'force_tls' | 'off';
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly from: string;
}

/**
 * Delivers over SMTP with nodemailer, which is loaded only when an SMTP server is configured: without one the
 * all-in-one never pays for it in memory or start-up time.
 */
export class SmtpMailer implements Mailer {
  readonly delivers = true;
  private readonly transport: Promise<Transporter>;

  constructor(
    private readonly settings: SmtpSettings,
    private readonly logger: Logger,
  ) {
    this.transport = import('nodemailer').then(({ createTransport }) =>
      createTransport({
        host: settings.host,
        port: settings.port,
        secure: settings.security === 'force_tls',
        requireTLS: settings.security === 'starttls',
        ignoreTLS: settings.security === 'off',
        connectionTimeout: 10_000,
        ...(settings.username ? { auth: { user: settings.username, pass: settings.password ?? '' } } : {}),
      }),
    );
    // Failures surface where the transport is used (ping at start-up, send); not as an unhandled rejection.
    this.transport.catch(() => undefined);
  }

  async send(message: MailMessage): Promise<void> {
    await (await this.transport).sendMail({ from: this.settings.from, ...message });
    this.logger.info({ subject: message.subject }, 'mail sent');
  }

  async ping(): Promise<void> {
    await (await this.transport).verify();
  }

  close(): void {
    this.transport.then(
      (transport) => {
        transport.close();
      },
      () => undefined,
    );
  }
}

/** Without SMTP_HOST, mail is written to the log so an operator can pass links on by hand. */
export class LogMailer implements Mailer {
  readonly delivers = false;

  constructor(private readonly logger: Logger) {}

  send(message: MailMessage): Promise<void> {
    this.logger.info(
      { mail: { to: message.to, subject: message.subject, text: message.text } },
      'mail (SMTP not configured)',
    );
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    // nothing to close
  }
}

export const MAILER = Symbol('MAILER');
