import { z } from 'zod';
import { bool } from './fields';

// Accounts and logins: the admin token, sign-ups, login limits and checks, refresh tokens, emergency
// access, and Keyhaven as its own Key Connector.

export const authShape = {
  ADMIN_TOKEN: z.string().optional(),
  /** Lifetime of an admin portal session (its cookie and its entry in the cache). */
  ADMIN_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(86400).default(1200),
  /** Failed admin-token attempts (portal login or Bearer) per client IP per 5 minutes before 429. */
  ADMIN_LOGIN_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(5),
  SIGNUPS_ALLOWED: bool(true),
  /** Credential attempts (password and API-key grants, prelogin) per client IP per minute. */
  LOGIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  /** Failed logins (or two-step codes) per account per 15 minutes before it is throttled. */
  LOGIN_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(10),
  /**
   * New-device verification: a password login from a device the account never used gets
   * `device_error` and a mailed code (needs SMTP). Off by default, as on Bitwarden's self-host.
   */
  NEW_DEVICE_VERIFICATION: bool(false),
  /**
   * How long a rotated-out refresh token still refreshes (to the same successor), so concurrent
   * refreshes of one client both succeed; a reuse after it revokes the token's whole family.
   */
  REFRESH_TOKEN_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(60).default(30),
  /** How often the emergency-access jobs run (auto-approval after the wait, reminders); one instance runs each round. */
  EMERGENCY_ACCESS_JOBS_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86400).default(3600),
  /**
   * Keyhaven as its own Key Connector at `{DOMAIN}/api/key-connector` (user-keys, alive): organizations
   * using Key Connector unlock without a master password and without running Bitwarden's service.
   */
  KEY_CONNECTOR_ENABLED: bool(false),
  /** 32 bytes, base64: seals the stored Key Connector keys (AES-256-GCM). Required when KEY_CONNECTOR_ENABLED. */
  KEY_CONNECTOR_ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, { message: 'must be 32 bytes, base64-encoded' })
    .optional(),
};

export function keyConnectorComplete(
  value: { KEY_CONNECTOR_ENABLED: boolean; KEY_CONNECTOR_ENCRYPTION_KEY?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (value.KEY_CONNECTOR_ENABLED && value.KEY_CONNECTOR_ENCRYPTION_KEY === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['KEY_CONNECTOR_ENCRYPTION_KEY'],
      message: 'is required when KEY_CONNECTOR_ENABLED is true',
    });
  }
}
