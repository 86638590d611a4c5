import { z } from 'zod';
import { urlWithProtocols } from './fields';

// Events: how long they are kept, how the processor batches them onto the queue, and the SIEM streams
// (organization webhooks and the operator's syslog).

export const eventsShape = {
  /** How often one instance deletes events older than EVENTS_DAYS_RETAIN (daily). */
  EVENTS_RETENTION_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(604800).default(86400),
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
};
