import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { EventType, guid, isClientReportedEventType, parseBody } from '@keyhaven/contracts';
import { Database, toEventRecords, type EventInput } from '@keyhaven/db';
import { EventRepository } from './event.repository';

/** What clients POST to `events/collect`; unknown fields are ignored, the list is bounded. */
export const collectSchema = z
  .array(
    z.object({
      type: z.number().int(),
      cipherId: guid.nullish(),
      organizationId: guid.nullish(),
      date: z.string().max(64).nullish(),
    }),
  )
  .max(1000);

type Reported = z.infer<typeof collectSchema>[number];

/** A client clock may be off: a date more than this ahead, or older than a year, reads as "now". */
const FUTURE_SLACK_MS = 5 * 60 * 1000;
const OLDEST_MS = 367 * 24 * 60 * 60 * 1000;

function reportedDate(value: string | null | undefined, now: Date): Date {
  if (!value) return now;
  const date = new Date(value);
  const ms = date.getTime();
  if (Number.isNaN(ms) || ms > now.getTime() + FUTURE_SLACK_MS || ms < now.getTime() - OLDEST_MS) return now;
  return date;
}

/** Confirmed, enabled memberships. */
const MEMBER_ORGS = `
  SELECT ou.organization_id FROM organization_user ou JOIN organization o ON o.id = ou.organization_id
  WHERE ou.user_id = $1 AND ou.status = 2 AND o.enabled`;

/**
 * Items the user can see, among the ones named: their own, and an organization's when they are an
 * Owner or Admin there or reach it through a collection (directly or through a group).
 */
const VISIBLE_CIPHERS = `
  SELECT c.id, c.organization_id AS "organizationId" FROM cipher c
  WHERE c.id = ANY($2::uuid[]) AND (
    (c.organization_id IS NULL AND c.user_id = $1)
    OR EXISTS (
      SELECT 1 FROM organization_user ou JOIN organization o ON o.id = ou.organization_id
      WHERE ou.organization_id = c.organization_id AND ou.user_id = $1 AND ou.status = 2 AND o.enabled AND (
        ou.type IN (0, 1)
        OR EXISTS (SELECT 1 FROM collection_cipher cc JOIN collection_user cu ON cu.collection_id = cc.collection_id
                   WHERE cc.cipher_id = c.id AND cu.organization_user_id = ou.id)
        OR EXISTS (SELECT 1 FROM collection_cipher cc JOIN collection_group cg ON cg.collection_id = cc.collection_id
                   JOIN group_user gu ON gu.group_id = cg.group_id
                   WHERE cc.cipher_id = c.id AND gu.organization_user_id = ou.id))))`;

/**
 * `POST events/collect`: what clients observed (vault exports, items viewed or copied, phishing
 * warnings). Only the types clients may report are kept, and only for the caller's own items and
 * organizations — both checked with one query each for the whole upload; the rest is dropped
 * silently, as Bitwarden does, so a client never retries it.
 *
 * Kept events are written straight to the event log, committed before the answer: they record no
 * change of ours that they must commit with, which is what the outbox is for, so the outbox, relay,
 * queue and processor would only add three writes and a hop per event (Bitwarden's self-hosted
 * server, too, writes collected events straight to its database). Streams read them from the log.
 */
@Injectable()
export class CollectService {
  constructor(
    private readonly db: Database,
    private readonly events: EventRepository,
  ) {}

  /** The number of events kept. */
  async collect(userId: string, body: unknown, now = new Date()): Promise<number> {
    const reported = parseBody(collectSchema, body).filter((e) => isClientReportedEventType(e.type));
    if (reported.length === 0) return 0;
    const cipherIds = [...new Set(reported.flatMap((e) => (e.cipherId ? [e.cipherId] : [])))];
    const [memberOrgs, ciphers] = await Promise.all([
      this.db.rows<{ organization_id: string }>(MEMBER_ORGS, [userId]),
      cipherIds.length === 0
        ? Promise.resolve([])
        : this.db.rows<{ id: string; organizationId: string | null }>(VISIBLE_CIPHERS, [userId, cipherIds]),
    ]);
    const orgs = new Set(memberOrgs.map((r) => r.organization_id));
    const visible = new Map(ciphers.map((c) => [c.id, c.organizationId]));
    const kept = reported.flatMap((e) => {
      const input = this.toInput(userId, e, orgs, visible);
      return input ? [{ ...input, date: reportedDate(e.date, now) }] : [];
    });
    await this.events.insert(toEventRecords(kept));
    return kept.length;
  }

  private toInput(
    userId: string,
    e: Reported,
    orgs: ReadonlySet<string>,
    visible: ReadonlyMap<string, string | null>,
  ): EventInput | null {
    // Checked against the client-reported numbers (isClientReportedEventType) before it gets here.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
    const type: EventType = e.type;
    if (type === EventType.User_ClientExportedVault) return { type, userId, actingUserId: userId };
    if (type === EventType.Organization_ClientExportedVault) {
      return e.organizationId && orgs.has(e.organizationId)
        ? { type, organizationId: e.organizationId, actingUserId: userId }
        : null;
    }
    if (type >= EventType.PhishingBlocker_SiteAccessed && type <= EventType.PhishingBlocker_Bypassed) {
      if (e.organizationId && !orgs.has(e.organizationId)) return null;
      return { type, userId, organizationId: e.organizationId ?? null, actingUserId: userId };
    }
    // Item events: the item decides the organization, never the client.
    if (!e.cipherId || !visible.has(e.cipherId)) return null;
    const organizationId = visible.get(e.cipherId) ?? null;
    return organizationId
      ? { type, cipherId: e.cipherId, organizationId, actingUserId: userId }
      : { type, cipherId: e.cipherId, userId, actingUserId: userId };
  }
}
