/**
 * The identity service's OAuth error body. The clients read `error`, `error_description` and
 * `ErrorModel.Message` (exact case), plus `TwoFactorProviders2` on a two-step challenge.
 */
export class IdentityError extends Error {
  /** For 429: seconds until a retry may pass (sent as Retry-After). */
  retryAfterSeconds?: number;

  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    private readonly extra: Record<string, unknown> = {},
  ) {
    super(description);
    this.name = 'IdentityError';
  }

  /** When the clients match `ErrorModel.Message` on other words than the description (new-device verification). */
  modelMessage?: string;

  body(): Record<string, unknown> {
    return {
      error: this.error,
      error_description: this.description,
      ...this.extra,
      ErrorModel: { Message: this.modelMessage ?? this.description, Object: 'error' },
    };
  }
}

export const invalidGrant = (description: string, extra?: Record<string, unknown>): IdentityError =>
  new IdentityError(400, 'invalid_grant', description, extra);

export const WRONG_CREDENTIALS = 'Username or password is incorrect. Try again.';
export const WRONG_TWO_FACTOR = 'Two-step token is invalid. Try again.';
export const ACCOUNT_DISABLED = 'This user has been disabled.';

export const SSO_REQUIRED = 'Sso authentication is required.';

/**
 * A password login refused by a Require SSO policy (ENTERPRISE.md §1.1). The clients recognise it
 * only by a non-empty `SsoOrganizationIdentifier` (exact case) and then start SSO with it; without one
 * they show the message, so the field is left out rather than sent empty.
 */
export const ssoRequired = (organizationIdentifier: string | null): IdentityError =>
  invalidGrant(SSO_REQUIRED, organizationIdentifier ? { SsoOrganizationIdentifier: organizationIdentifier } : {});

export function tooManyRequests(retryAfterSeconds: number): IdentityError {
  const error = new IdentityError(429, 'too_many_requests', 'Too many login attempts. Try again later.');
  error.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return error;
}
