import { Injectable } from '@nestjs/common';
import { badRequest, rateLimited } from '@keyhaven/contracts';
import { AuthRequestsService } from '../auth-requests/auth-requests.service';
import { AttemptLimiter } from '../login/attempt-limiter';
import { PasswordHasher } from '../password-hasher';
import { AccessTokens } from '../tokens/access-tokens';
import { normalizeEmail, type User } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { EmailTwoFactorService } from './email-two-factor.service';

const SSO_EMAIL_2FA_PURPOSE = 'sso-email-2fa';
const SSO_EMAIL_2FA_LIFETIME_S = 15 * 60;
const CANNOT_SEND = 'Cannot send two-factor email.';

/** What a client sends to `send-email-login`; the CLI sends only the email and the master password hash. */
export interface EmailLoginRequest {
  email: string;
  masterPasswordHash?: string | null | undefined;
  authRequestId?: string | null | undefined;
  authRequestAccessCode?: string | null | undefined;
  ssoEmail2FaSessionToken?: string | null | undefined;
}

/**
 * `POST two-factor/send-email-login` (anonymous): the 2025.5+ clients ask for the login code
 * themselves after the challenge. The caller must prove the first factor again (the master
 * password, the challenge's session token, or an approved auth request); each attempt counts
 * against the account's failed-attempt limit, so the endpoint can neither mail-bomb nor guess.
 */
@Injectable()
export class EmailLoginService {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly limiter: AttemptLimiter,
    private readonly tokens: AccessTokens,
    private readonly authRequests: AuthRequestsService,
    private readonly email: EmailTwoFactorService,
  ) {}

  /** The `SsoEmail2faSessionToken` of a challenge: lets that login ask for the mail without the password. */
  sessionToken(user: User): Promise<string> {
    return this.tokens.signPurpose(SSO_EMAIL_2FA_PURPOSE, { sub: user.id }, SSO_EMAIL_2FA_LIFETIME_S);
  }

  async send(ip: string, request: EmailLoginRequest): Promise<void> {
    const email = normalizeEmail(request.email);
    const attempt = await this.limiter.attempt(`2fa-email-send:${email}`, ip);
    if (!attempt.allowed) throw rateLimited(attempt.retryAfterSeconds);
    const user = await this.users.findByEmail(email);
    if (!user || !(await this.firstFactorProven(user, request))) throw badRequest(CANNOT_SEND);
    if (!(await this.email.sendLoginCode(user))) throw badRequest(CANNOT_SEND);
  }

  private async firstFactorProven(user: User, request: EmailLoginRequest): Promise<boolean> {
    if (request.ssoEmail2FaSessionToken) {
      const claims = await this.tokens.verifyPurpose(SSO_EMAIL_2FA_PURPOSE, request.ssoEmail2FaSessionToken);
      if (claims?.['sub'] === user.id) return true;
    }
    if (request.authRequestId && request.authRequestAccessCode) {
      return this.authRequests.validForLogin(request.authRequestId, user.id, request.authRequestAccessCode);
    }
    if (!request.masterPasswordHash) return false;
    return this.hasher.verify(user.masterPasswordHash, request.masterPasswordHash);
  }
}
