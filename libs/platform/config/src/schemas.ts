import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { CronTime } from 'cron';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const urlWithProtocols = (protocols: string[], example: string) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL like ${example}` },
  );

const port = (fallback: number) =>
  z.coerce
    .number({ message: 'must be a port number' })
    .int('must be a port number')
    .min(1, 'must be between 1 and 65535')
    .max(65535, 'must be between 1 and 65535')
    .default(fallback);

const databaseUrl = urlWithProtocols(['postgres:', 'postgresql:'], 'postgres://user:pass@host:5432/db');
const redisUrl = urlWithProtocols(['redis:', 'rediss:'], 'redis://host:6379');
const amqpUrl = urlWithProtocols(['amqp:', 'amqps:'], 'amqp://user:pass@host:5672');

/** A comma-separated list (blank entries dropped). */
const list = (check: (entry: string) => boolean, message: string) =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((e) => e.trim())
        .filter((e) => e !== ''),
    )
    .refine((entries) => entries.every(check), { message });

const isNetwork = (entry: string): boolean => {
  const value = entry.replace(/^\[(.*)\]$/, '$1');
  try {
    if (value.includes('/')) ipaddr.parseCIDR(value);
    else ipaddr.parse(value);
    return true;
  } catch {
    return false;
  }
};

/** `host[:port]=address:port` (IPv6 address in brackets), like curl's --connect-to. */
const CONNECT_TO =
  /^([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?=(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]):(\d{1,5})$/i;
const connectTo = list((e) => CONNECT_TO.test(e), 'must be host[:port]=address:port entries').transform((entries) =>
  entries.map((e) => {
    const [, host = '', fromPort, address = '', port = ''] = CONNECT_TO.exec(e) ?? [];
    const bare = (h: string) => h.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    return { from: fromPort ? `${bare(host)}:${fromPort}` : bare(host), address: bare(address), port: Number(port) };
  }),
);

/** The paid plans a Stripe price can be set for. */
export const BILLING_PRICE_KEYS = ['teams-monthly', 'teams-yearly', 'enterprise-monthly', 'enterprise-yearly'] as const;
export type BillingPriceKey = (typeof BILLING_PRICE_KEYS)[number];

const PRICE_ENTRY = /^(teams|enterprise)-(monthly|yearly)=(price_[A-Za-z0-9_]{1,200})$/;
const stripePrices = list(
  (e) => PRICE_ENTRY.test(e),
  'must be plan=price_… entries, comma-separated (plans: teams-monthly, teams-yearly, enterprise-monthly, enterprise-yearly)',
).transform((entries) => {
  const prices: Partial<Record<BillingPriceKey, string>> = {};
  for (const entry of entries) {
    const [key = '', price = ''] = entry.split('=');
    prices[key as BillingPriceKey] = price;
  }
  return prices;
});

/** A cron expression (5 fields, or 6 with seconds first), evaluated in UTC. */
const cronExpression = z.string().refine(
  (v) => {
    try {
      new CronTime(v, 'UTC');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a cron expression such as "0 3 * * *" (evaluated in UTC)' },
);

/** How many backups to keep: a count (`7`) or an age in days (`30d`). */
const backupRetention = z
  .string()
  .default('7')
  .refine((v) => /^[1-9]\d{0,5}d?$/.test(v), { message: 'must be a count (7) or a number of days (30d)' })
  .transform((v) => (v.endsWith('d') ? { days: Number(v.slice(0, -1)) } : { count: Number(v) }));

/** Settings every service process shares. */
const processShape = {
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().default('./data'),
  DOMAIN: z
    .string()
    .default('https://localhost:8443')
    .pipe(urlWithProtocols(['https:', 'http:'], 'https://vault.example.com'))
    .transform((v) => v.replace(/\/+$/, '')),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Trust X-Forwarded-* from these hops (a proxy in front). */
  TRUST_PROXY: bool(false),
  S3_ENDPOINT: z.string().optional(),
  S3_BUCKET: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  SMTP_HOST: z.string().optional(),
  SMTP_PORT: port(587),
  SMTP_SECURITY: z
    .enum(['starttls', 'force_tls', 'off'], { message: 'must be starttls, force_tls or off' })
    .default('starttls'),
  SMTP_USERNAME: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  SMTP_FROM: z.string().default('Keyhaven <keyhaven@localhost>'),
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
  /** A request (headers and body) that has not fully arrived by then is answered 408 and its socket closed. */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3600000).default(60000),
  /** A header block that has not fully arrived by then is answered 408 and its socket closed. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3600000).default(15000),
  /** An idle keep-alive connection is closed after this. */
  HTTP_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3600000).default(30000),
  /** Open connections a process accepts at most (0: no cap); beyond, new connections are dropped. */
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(0).default(10000),
  /**
   * SIGTERM: readiness (`/healthz`) fails at once and the listener keeps accepting this long, so probes and load
   * balancers that poll readiness stop routing here first (Kubernetes: a few seconds; nginx in front: 0).
   */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(600000).default(0),
  /**
   * Then, with the listener closed: the longest wait for in-flight requests, hub clients and kept-alive connections
   * (each asked to close on its next response; a proxy closes its idle ones at its own upstream keepalive timeout,
   * which should be shorter). What is still open after it is closed. 0: close idle connections at once.
   */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(600000).default(5000),
  /** A second, plain-HTTP listener for `/metrics` and `/healthz` with detail (off when unset). */
  MANAGEMENT_PORT: z.coerce
    .number({ message: 'must be a port number' })
    .int('must be a port number')
    .min(1, 'must be between 1 and 65535')
    .max(65535, 'must be between 1 and 65535')
    .optional(),
  /** Address of the management listener: loopback unless a scraper elsewhere needs it. */
  MANAGEMENT_HOST: z.string().default('127.0.0.1'),
  /** Notifications hub (the all-in-one and the notifications app): open hub connections per client IP. */
  NOTIFICATIONS_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(1000),
  /** Open anonymous-hub (login with device) connections per client IP. */
  NOTIFICATIONS_ANONYMOUS_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(20),
  /** Largest message a client may send (handshake included); larger closes the connection. */
  NOTIFICATIONS_MAX_MESSAGE_BYTES: z.coerce.number().int().min(256).max(1048576).default(4096),
  /** A connection that has not completed the SignalR handshake by then is closed. */
  NOTIFICATIONS_HANDSHAKE_TIMEOUT_MS: z.coerce.number().int().min(100).default(15000),
  /** The server pings every connection this often (clients give up after 30 s of silence). */
  NOTIFICATIONS_KEEPALIVE_MS: z.coerce.number().int().min(100).default(15000),
  /** A client that sends nothing (its pings included) for this long is closed. */
  NOTIFICATIONS_CLIENT_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30000),
  /** A connection with more unsent bytes than this is too slow and is closed instead of buffered. */
  NOTIFICATIONS_MAX_BUFFERED_BYTES: z.coerce.number().int().min(1024).default(262144),
  /** How often the hub re-reads the security stamps of its users, closing connections whose stamp changed. */
  NOTIFICATIONS_STAMP_CHECK_MS: z.coerce.number().int().min(100).default(60000),
  /** `GET /api/sync` calls one user (or organization API key) may have running at once; more get 429. */
  SYNC_CONCURRENT_PER_USER: z.coerce.number().int().min(1).default(2),
  /** `GET /api/sync` calls one user may start per minute. */
  SYNC_PER_MINUTE_PER_USER: z.coerce.number().int().min(1).default(60),
  /** How often the emergency-access jobs run (auto-approval after the wait, reminders); one instance runs each round. */
  EMERGENCY_ACCESS_JOBS_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86400).default(3600),
  /** Other authenticated changes (POST, PUT, PATCH, DELETE) one user or organization API key may make per minute; more get 429. */
  WRITES_PER_MINUTE_PER_USER: z.coerce.number().int().min(1).default(1200),
  /** Imports, exports, organization details, bulk item operations and directory imports running at once per user (each kind counted apart). */
  EXPENSIVE_CALLS_CONCURRENT_PER_USER: z.coerce.number().int().min(1).default(2),
  /** The same calls started per user per minute (each kind counted apart). */
  EXPENSIVE_CALLS_PER_MINUTE_PER_USER: z.coerce.number().int().min(1).default(30),
  /** Largest attachment (encrypted bytes, as the client declares it); longer uploads are refused while they stream. */
  ATTACHMENTS_MAX_FILE_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(525336576),
  /** Attachment storage per user (their personal items), in GiB (fractions allowed); 0 turns personal attachments off. */
  ATTACHMENTS_USER_MAX_STORAGE_GB: z.coerce.number().min(0).max(1048576).default(10240),
  /** Attachment storage per organization, in GiB (fractions allowed); 0 turns organization attachments off. */
  ATTACHMENTS_ORG_MAX_STORAGE_GB: z.coerce.number().min(0).max(1048576).default(10240),
  /** An attachment whose file has not arrived this long after it was created is removed (row and blob). */
  ATTACHMENTS_PENDING_UPLOAD_TTL_SECONDS: z.coerce.number().int().min(1).default(3600),
  /** How often one instance removes abandoned uploads and the blobs of deleted attachments. */
  ATTACHMENTS_CLEANUP_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(300),
  /** Apply pending migrations at start (under their advisory lock); off when a deploy step migrates (the Helm chart's hook Job), and the process then refuses to start on an older schema. */
  MIGRATE_AT_BOOT: bool(true),
  /** How often one instance deletes Sends past their deletion date (Bitwarden's DeleteSendsJob: 5 minutes). */
  SEND_DELETION_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86400).default(300),
  /** How often one instance deletes events older than EVENTS_DAYS_RETAIN (daily). */
  EVENTS_RETENTION_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(604800).default(86400),
  /** Scheduled backups (`keyhaven backup` run by exactly one instance): a cron expression in UTC; off when unset. */
  BACKUP_SCHEDULE: cronExpression.optional(),
  /** Where scheduled backups are written (a volume every instance that may run the job can reach); required with BACKUP_SCHEDULE. */
  BACKUP_DIR: z.string().optional(),
  /** Scheduled backups kept after each run: the newest N (`7`) or those younger than N days (`30d`). */
  BACKUP_RETENTION: backupRetention,
  /** Passphrase scheduled backups are encrypted with (scrypt); use BACKUP_PASSPHRASE_FILE. One of it or BACKUP_RECIPIENT. */
  BACKUP_PASSPHRASE: z.string().min(1).optional(),
  /** age public key (`age1…`) scheduled backups are encrypted to; the identity stays off the server. */
  BACKUP_RECIPIENT: z
    .string()
    .regex(/^(age1[0-9a-z]+)?$/, 'must be an age public key (age1…)')
    .optional()
    // Empty is unset, so an env file can list the variable without choosing it.
    .transform((v) => (v === '' ? undefined : v)),
  /** Outbound fetches (icons, webhooks) may reach these CIDRs despite the private-address policy (tests, internal hosts); metadata addresses stay closed. */
  OUTBOUND_ALLOW_NETWORKS: list(isNetwork, 'must be IP addresses or CIDRs, comma-separated'),
  /** Test and development routing: `host[:port]=address:port`, comma-separated; the address policy still applies. */
  OUTBOUND_CONNECT_TO: connectTo,
  OUTBOUND_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(5000),
  /** Longest wait for response headers, and between two chunks of a body. */
  OUTBOUND_READ_TIMEOUT_MS: z.coerce.number().int().min(100).max(120000).default(10000),
  /** A whole outbound request, redirects and body included. */
  OUTBOUND_TIMEOUT_MS: z.coerce.number().int().min(100).max(300000).default(20000),
  /** Largest outbound response body read; more aborts the request. */
  OUTBOUND_MAX_BYTES: z.coerce.number().int().min(1024).default(5242880),
  /** How long a found icon is kept (BlobStore, Redis in front) and told to browsers to keep. */
  ICONS_CACHE_TTL_SECONDS: z.coerce.number().int().min(60).default(2592000),
  /** How long "this site has no icon" is kept (the fallback icon is served meanwhile). */
  ICONS_MISS_TTL_SECONDS: z.coerce.number().int().min(60).default(259200),
  /** Whole lookup of one site's icon (page, manifest, image), every request included. */
  ICONS_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120000).default(10000),
  /** Largest icon image downloaded (the page itself is capped at 512 KiB). */
  ICONS_MAX_BYTES: z.coerce.number().int().min(1024).max(52428800).default(1048576),
  /** Accept IP literals as icon "domains" (tests); names only otherwise. */
  ICONS_ALLOW_IP_LITERALS: bool(false),
  /** Icon lookups (cache misses, each a fetch from the site) one client IP may start per minute; beyond, the fallback. */
  ICONS_LOOKUPS_PER_MINUTE_PER_IP: z.coerce.number().int().min(1).default(600),
  /** Events older than this many days are deleted once a day (one instance runs the cleanup); unset keeps them. */
  EVENTS_DAYS_RETAIN: z.coerce.number().int().min(1).max(36500).optional(),
  /** The events processor inserts at most this many events per statement (and holds as many unacknowledged). */
  EVENTS_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(200),
  /** A batch smaller than EVENTS_BATCH_SIZE is written at the latest this long after its first event arrived. */
  EVENTS_FLUSH_INTERVAL_MS: z.coerce.number().int().min(1).max(60000).default(250),
  /** How often the outbox relay looks for recorded events to send on to the queue. */
  EVENTS_RELAY_INTERVAL_MS: z.coerce.number().int().min(10).max(60000).default(250),
  /** The durable event queue (`<name>.dead-letter` holds what can never be stored); one per deployment. */
  EVENTS_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be letters, digits, dots, dashes or underscores')
    .default('keyhaven.events'),
  /** The operator's SIEM: every stored event as RFC 5424 syslog over TCP or TLS (`tcp://host:514`, `tls://host:6514`); off when unset. */
  SYSLOG_URL: urlWithProtocols(['tcp:', 'tls:'], 'tcp://host:514 or tls://host:6514').optional(),
  /** PEM file of the CA that signs the syslog server's certificate (tls://), when not a public one. */
  SYSLOG_TLS_CA_FILE: z.string().optional(),
  /** How often one instance looks for stored events to stream (organization webhooks, syslog). */
  SIEM_STREAM_INTERVAL_MS: z.coerce.number().int().min(50).max(600000).default(5000),
  /** Events per webhook POST and per syslog write. */
  SIEM_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /** First retry delay after a failed delivery; doubled per further failure up to SIEM_RETRY_MAX_MS. */
  SIEM_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3600000).default(10000),
  SIEM_RETRY_MAX_MS: z.coerce.number().int().min(10).max(86400000).default(3600000),
  /**
   * Claimed domains an organization may mark verified without a DNS lookup (closed networks whose
   * resolver the server cannot ask): exact names, `*.suffix` for every name under a suffix, or `*` for any.
   */
  CLAIMED_DOMAINS_VERIFIED_WITHOUT_DNS: list(
    (e) => e === '*' || /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(e),
    'must be domain names, *.suffix or *',
  ).transform((entries) => entries.map((e) => e.toLowerCase())),
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
  /** DNS servers (`address` or `address:port`) for the claimed-domain TXT lookup; unset: the system resolver's. */
  CLAIMED_DOMAINS_DNS_SERVERS: list(
    (e) => /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\])(:\d{1,5})?$/i.test(e),
    'must be address[:port] entries (IPv6 in brackets)',
  ),
  /** `off` (default): no billing route answers and every organization has unlimited seats; `stripe`: plans, seats and subscriptions through Stripe. */
  BILLING: z.enum(['off', 'stripe'], { message: 'must be off or stripe' }).default('off'),
  /** Stripe's secret API key (`sk_live_…`/`sk_test_…`, or a restricted `rk_…` key); required with BILLING=stripe. */
  STRIPE_SECRET_KEY: z.string().optional(),
  /** The signing secret of the webhook endpoint `/billing/stripe/webhook` (`whsec_…`); required with BILLING=stripe. */
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  /** Plan → Stripe price (per seat): `teams-monthly=price_…,teams-yearly=price_…,enterprise-monthly=price_…,enterprise-yearly=price_…`. */
  STRIPE_PRICES: stripePrices,
  /** Stripe's API base URL; only tests point it elsewhere (a local stand-in). */
  STRIPE_API_URL: urlWithProtocols(['https:', 'http:'], 'https://api.stripe.com').default('https://api.stripe.com'),
  /** Seats of an organization on the Free plan (no subscription) when billing is on. */
  BILLING_FREE_SEATS: z.coerce.number().int().min(1).max(1000000).default(2),
  /** Days an organization whose payment failed keeps working before it is disabled (its data kept). */
  BILLING_GRACE_DAYS: z.coerce.number().min(0).max(365).default(14),
  /** How often one instance disables organizations whose grace period is over. */
  BILLING_JOBS_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86400).default(3600),
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

/** The all-in-one server: every dependency optional, embedded adapters otherwise. */
export const serverConfigSchema = z
  .object({
    ...processShape,
    PORT: port(8443),
    TLS: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
    DATABASE_URL: databaseUrl.optional(),
    REDIS_URL: redisUrl.optional(),
    AMQP_URL: amqpUrl.optional(),
  })
  .superRefine(s3Complete)
  .superRefine(billingComplete)
  .superRefine(keyConnectorComplete)
  .superRefine(backupComplete);

/** Default ports of the split services, so they can run side by side on one host. */
export const SERVICE_PORTS = {
  api: 4000,
  identity: 4001,
  admin: 4002,
  notifications: 4003,
  events: 4004,
  'events-processor': 4005,
  sso: 4006,
  scim: 4007,
  billing: 4008,
  icons: 4009,
} as const;

export type ServiceName = keyof typeof SERVICE_PORTS;

/** A split service: production adapters are required; TLS is normally terminated by the proxy. */
export function serviceConfigSchema(service: ServiceName) {
  return z
    .object({
      ...processShape,
      PORT: port(SERVICE_PORTS[service]),
      TLS: z.enum(['on', 'off'], { message: 'must be on or off' }).default('off'),
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      AMQP_URL: amqpUrl,
    })
    .superRefine(s3Complete)
    .superRefine(billingComplete)
    .superRefine(keyConnectorComplete)
    .superRefine(backupComplete);
}

/** With BILLING=stripe the keys and every plan's price are required, so a half-set-up billing never boots. */
function billingComplete(
  value: {
    BILLING: 'off' | 'stripe';
    STRIPE_SECRET_KEY?: string | undefined;
    STRIPE_WEBHOOK_SECRET?: string | undefined;
    STRIPE_PRICES: Partial<Record<BillingPriceKey, string>>;
  },
  ctx: z.RefinementCtx,
): void {
  if (value.BILLING !== 'stripe') return;
  if (!value.STRIPE_SECRET_KEY || !/^(sk|rk)_[A-Za-z0-9_]+$/.test(value.STRIPE_SECRET_KEY)) {
    ctx.addIssue({
      code: 'custom',
      path: ['STRIPE_SECRET_KEY'],
      message: 'is required with BILLING=stripe (sk_… or rk_…)',
    });
  }
  if (!value.STRIPE_WEBHOOK_SECRET || !value.STRIPE_WEBHOOK_SECRET.startsWith('whsec_')) {
    ctx.addIssue({
      code: 'custom',
      path: ['STRIPE_WEBHOOK_SECRET'],
      message: 'is required with BILLING=stripe (whsec_…)',
    });
  }
  const missing = BILLING_PRICE_KEYS.filter((k) => value.STRIPE_PRICES[k] === undefined);
  if (missing.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['STRIPE_PRICES'],
      message: `needs a price for ${missing.join(', ')} with BILLING=stripe`,
    });
  }
}

function keyConnectorComplete(
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

/** A backup schedule needs a place to write and exactly one way to encrypt. */
function backupComplete(
  value: {
    BACKUP_SCHEDULE?: string | undefined;
    BACKUP_DIR?: string | undefined;
    BACKUP_PASSPHRASE?: string | undefined;
    BACKUP_RECIPIENT?: string | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if (value.BACKUP_SCHEDULE === undefined) return;
  if (value.BACKUP_DIR === undefined) {
    ctx.addIssue({ code: 'custom', path: ['BACKUP_DIR'], message: 'is required with BACKUP_SCHEDULE' });
  }
  if ((value.BACKUP_PASSPHRASE === undefined) === (value.BACKUP_RECIPIENT === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['BACKUP_PASSPHRASE'],
      message:
        'set exactly one of BACKUP_PASSPHRASE (or BACKUP_PASSPHRASE_FILE) and BACKUP_RECIPIENT with BACKUP_SCHEDULE',
    });
  }
}

function s3Complete(
  value: { S3_ENDPOINT?: string | undefined; S3_BUCKET?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (value.S3_BUCKET === undefined && value.S3_ENDPOINT !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is required when S3_ENDPOINT is set' });
  }
}

export type KeyhavenConfig = z.infer<typeof serverConfigSchema>;

/** Keys whose values must never be printed. */
export const SECRET_KEYS = [
  'DATABASE_URL',
  'REDIS_URL',
  'AMQP_URL',
  'S3_SECRET_ACCESS_KEY',
  'SMTP_PASSWORD',
  'ADMIN_TOKEN',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'KEY_CONNECTOR_ENCRYPTION_KEY',
  'BACKUP_PASSPHRASE',
] as const;

/** A printable view of the configuration: secrets masked, URLs stripped of credentials. */
export function describeConfig(config: KeyhavenConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (key.endsWith('_URL') && typeof value === 'string') {
      const url = new URL(value);
      out[key] = `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
    } else if ((SECRET_KEYS as readonly string[]).includes(key)) {
      out[key] = '***';
    } else {
      out[key] = value;
    }
  }
  return out;
}
