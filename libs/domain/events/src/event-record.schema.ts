import { z } from 'zod';
import type { EventRecord } from '@keyhaven/db';

/**
 * The message pattern of the event queue's consumer. The queue itself is named by EVENTS_QUEUE
 * (default `keyhaven.events`), so that deployments sharing a broker keep their events apart.
 */
export const EVENTS_QUEUE = 'keyhaven.events';
/** Where messages the processor can never store go, with the reason, for an operator to inspect. */
export const deadLetterQueueOf = (queue: string): string => `${queue}.dead-letter`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const id = z.string().regex(UUID).nullable();

/**
 * One event as it travels on the queue. Checked again by the processor: a message that does not
 * parse is poison (it could never be stored) and goes to the dead-letter queue.
 */
export const eventRecordSchema = z.object({
  id: z.string().regex(UUID),
  type: z.number().int().min(0).max(2_147_483_647),
  userId: id,
  organizationId: id,
  cipherId: id,
  collectionId: id,
  groupId: id,
  organizationUserId: id,
  policyId: id,
  sendId: id,
  providerId: id,
  installationId: id,
  domainName: z.string().max(1024).nullable(),
  actingUserId: id,
  deviceType: z.number().int().min(0).max(32767).nullable(),
  ipAddress: z.string().max(64).nullable(),
  // Absent in messages queued before it existed.
  systemUser: z.number().int().min(0).max(32767).nullish(),
  date: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'not a date'),
}) satisfies z.ZodType<EventRecord>;

/** A queue message: the events one relay round took from the outbox. */
export const eventMessageSchema = z.array(z.unknown()).max(10_000);
