import { z } from 'zod';
import { authShape, keyConnectorComplete } from './schema/auth';
import { backupComplete, backupShape } from './schema/backups';
import { billingComplete, billingShape } from './schema/billing';
import { eventsShape } from './schema/events';
import { port } from './schema/fields';
import { limitsShape } from './schema/limits';
import { mailShape } from './schema/mail';
import { notificationsShape } from './schema/notifications';
import { outboundShape } from './schema/outbound';
import { SERVICE_PORTS, amqpUrl, databaseUrl, redisUrl, serverShape, type ServiceName } from './schema/server';
import { ssoShape } from './schema/sso';
import { s3Complete, storageShape } from './schema/storage';

// One configuration, read from the environment: each area's variables are in ./schema, composed here
// into the all-in-one's schema and the split services'.

export { BILLING_PRICE_KEYS, type BillingPriceKey } from './schema/billing';
export { SERVICE_PORTS, type ServiceName } from './schema/server';

/** Settings every service process shares. */
const processShape = {
  ...serverShape,
  ...storageShape,
  ...mailShape,
  ...authShape,
  ...notificationsShape,
  ...limitsShape,
  ...backupShape,
  ...outboundShape,
  ...eventsShape,
  ...ssoShape,
  ...billingShape,
};

/** The checks that span variables (a setting that needs another), run on every process's configuration. */
function crossChecks(
  value: Parameters<typeof s3Complete>[0] &
    Parameters<typeof billingComplete>[0] &
    Parameters<typeof keyConnectorComplete>[0] &
    Parameters<typeof backupComplete>[0],
  ctx: z.RefinementCtx,
): void {
  s3Complete(value, ctx);
  billingComplete(value, ctx);
  keyConnectorComplete(value, ctx);
  backupComplete(value, ctx);
}

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
  .superRefine(crossChecks);

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
    .superRefine(crossChecks);
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
