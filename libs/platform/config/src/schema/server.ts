import { z } from 'zod';
import { bool, urlWithProtocols } from './fields';

// The process itself: where it listens and serves from, how its HTTP listener treats connections, how it
// shuts down, and the database, cache and queue it uses.

export const databaseUrl = urlWithProtocols(['postgres:', 'postgresql:'], 'postgres://user:pass@host:5432/db');
export const redisUrl = urlWithProtocols(['redis:', 'rediss:'], 'redis://host:6379');
export const amqpUrl = urlWithProtocols(['amqp:', 'amqps:'], 'amqp://user:pass@host:5672');

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

export const serverShape = {
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
  /** Apply pending migrations at start (under their advisory lock); off when a deploy step migrates (the Helm chart's hook Job), and the process then refuses to start on an older schema. */
  MIGRATE_AT_BOOT: bool(true),
};
