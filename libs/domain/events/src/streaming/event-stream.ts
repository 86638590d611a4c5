import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

/**
 * A reader's place in the stored events: the storing transaction's id and the row's sequence
 * number (see the EventStreaming migration). Strings, as the drivers hand out xid8 and bigint.
 */
export interface StreamCursor {
  readonly xid: string;
  readonly seq: string;
}

/** One event as streamed to a SIEM: Bitwarden's event fields, camelCase, ISO date. */
export interface StreamEvent {
  readonly id: string;
  readonly type: number;
  readonly date: string;
  readonly organizationId: string | null;
  readonly userId: string | null;
  readonly actingUserId: string | null;
  readonly cipherId: string | null;
  readonly collectionId: string | null;
  readonly groupId: string | null;
  readonly policyId: string | null;
  readonly organizationUserId: string | null;
  readonly sendId: string | null;
  readonly installationId: string | null;
  readonly providerId: string | null;
  readonly domainName: string | null;
  readonly deviceType: number | null;
  readonly ipAddress: string | null;
}

export interface StreamBatch {
  readonly events: StreamEvent[];
  /** Where the reader stands after these events (unchanged when there were none). */
  readonly next: StreamCursor;
}

interface EventRow extends Record<string, unknown> {
  stream_xid: string;
  stream_seq: string;
  date: Date | string;
}

/**
 * Reads stored events in the order their transactions became visible. Only rows stored by
 * transactions older than every transaction still running are read (`pg_snapshot_xmin`), so a
 * batch that commits late can never land behind a cursor that has already moved on: nothing is
 * skipped, and a long-running transaction only delays streaming.
 */
@Injectable()
export class EventStream {
  constructor(private readonly db: Database) {}

  /** The position "now": a new reader starts here and gets the events stored from then on. */
  async head(): Promise<StreamCursor> {
    const [row] = await this.db.rows<{ xid: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xid');
    return { xid: row?.xid ?? '0', seq: '0' };
  }

  /** Up to `limit` events after `cursor`, of one organization or (null) of the whole instance. */
  async after(cursor: StreamCursor, organizationId: string | null, limit: number): Promise<StreamBatch> {
    const rows = await this.db.rows<EventRow>(
      `SELECT e.id, e.type, e.date, e.organization_id AS "organizationId", e.user_id AS "userId",
              e.acting_user_id AS "actingUserId", e.cipher_id AS "cipherId", e.collection_id AS "collectionId",
              e.group_id AS "groupId", e.policy_id AS "policyId", e.organization_user_id AS "organizationUserId",
              e.send_id AS "sendId", e.installation_id AS "installationId", e.provider_id AS "providerId",
              e.domain_name AS "domainName", e.device_type AS "deviceType", e.ip_address AS "ipAddress",
              e.stream_xid::text AS stream_xid, e.stream_seq::text AS stream_seq
         FROM event e
        WHERE (e.stream_xid, e.stream_seq) > ($1::xid8, $2::bigint)
          AND e.stream_xid < pg_snapshot_xmin(pg_current_snapshot())
          AND ($3::uuid IS NULL OR e.organization_id = $3::uuid)
        ORDER BY e.stream_xid, e.stream_seq
        LIMIT $4`,
      [cursor.xid, cursor.seq, organizationId, limit],
    );
    const last = rows.at(-1);
    return {
      events: rows.map(toStreamEvent),
      next: last ? { xid: last.stream_xid, seq: last.stream_seq } : cursor,
    };
  }
}

function toStreamEvent(row: EventRow): StreamEvent {
  const { stream_xid: _xid, stream_seq: _seq, date, ...fields } = row;
  return { ...(fields as unknown as Omit<StreamEvent, 'date'>), date: new Date(date).toISOString() };
}

/** Delay before retry number `failures` (1 = after the first failure): doubling from base, capped. */
export function retryDelayMs(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
}
