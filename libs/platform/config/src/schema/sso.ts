import { z } from 'zod';
import { bool, list } from './fields';

// SSO logins and the claimed domains they route by (verified by a DNS TXT record, or not, where allowed).

export const ssoShape = {
  /**
   * Claimed domains an organization may mark verified without a DNS lookup (closed networks whose
   * resolver the server cannot ask): exact names, `*.suffix` for every name under a suffix, or `*` for any.
   */
  CLAIMED_DOMAINS_VERIFIED_WITHOUT_DNS: list(
    (e) => e === '*' || /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(e),
    'must be domain names, *.suffix or *',
  ).transform((entries) => entries.map((e) => e.toLowerCase())),
  /** DNS servers (`address` or `address:port`) for the claimed-domain TXT lookup; unset: the system resolver's. */
  CLAIMED_DOMAINS_DNS_SERVERS: list(
    (e) => /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\])(:\d{1,5})?$/i.test(e),
    'must be address[:port] entries (IPv6 in brackets)',
  ),
  /** Lifetime of an SSO prevalidate token (between the organization lookup and the authorize request). */
  SSO_PREVALIDATE_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** How long a user may take at the identity provider before the pending SSO login expires. */
  SSO_FLOW_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(600),
  /** Lifetime of an SSO authorization code handed to the client (survives a two-step challenge, used once). */
  SSO_CODE_TTL_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
  /** Allow identity providers on plain http:// (tests and closed lab networks only). */
  SSO_ALLOW_HTTP_IDP: bool(false),
  /** Break-glass: organization owners keep password login when the require-SSO policy applies (false: only with SSO). */
  SSO_OWNERS_PASSWORD_LOGIN: bool(true),
};
