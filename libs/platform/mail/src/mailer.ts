import nodemailer, { type Transporter } from 'nodemailer';
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

export class SmtpMailer implements Mailer {
  readonly delivers = true;
  private readonly transport: Transporter;

  constructor(
    private readonly settings: SmtpSettings,
    private readonly logger: Logger,
  ) {
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.security === 'force_tls',
      requireTLS: settings.security === 'starttls',
      ignoreTLS: settings.security === 'off',
      connectionTimeout: 10_000,
      ...(settings.username ? { auth: { user: settings.username, pass: settings.password ?? '' } } : {}),
    });
  }

  async send(message: MailMessage): Promise<void> {
    await this.transport.sendMail({ from: this.settings.from, ...message });
    this.logger.info({ subject: message.subject }, 'mail sent');
  }

  async ping(): Promise<void> {
    await this.transport.verify();
  }

  close(): void {
    this.transport.close();
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
