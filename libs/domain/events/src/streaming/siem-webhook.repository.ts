import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import type { StreamCursor } from './event-stream';

export interface SiemWebhook {
  readonly organizationId: string;
  readonly url: string;
  readonly secret: string;
  readonly enabled: boolean;
  readonly cursor: StreamCursor;
  readonly failedAttempts: number;
  readonly nextAttemptAt: Date | null;
  readonly deliveredCount: number;
  readonly lastDeliveryAt: Date | null;
  readonly lastFailureAt: Date | null;
  readonly lastFailure: string | null;
  readonly revisionDate: Date;
}

interface Row {
  organization_id: string;
  url: string;
  secret: string;
  enabled: boolean;
  cursor_xid: string;
  cursor_seq: string;
  failed_attempts: number;
  next_attempt_at: Date | null;
  delivered_count: string;
  last_delivery_at: Date | null;
  last_failure_at: Date | null;
  last_failure: string | null;
  revision_date: Date;
}

const date = (v: Date | null): Date | null => (v === null ? null : new Date(v));

function toWebhook(r: Row): SiemWebhook {
  return {
    organizationId: r.organization_id,
    url: r.url,
    secret: r.secret,
    enabled: r.enabled,
    cursor: { xid: r.cursor_xid, seq: r.cursor_seq },
    failedAttempts: r.failed_attempts,
    nextAttemptAt: date(r.next_attempt_at),
    deliveredCount: Number(r.delivered_count),
    lastDeliveryAt: date(r.last_delivery_at),
    lastFailureAt: date(r.last_failure_at),
    lastFailure: r.last_failure,
    revisionDate: new Date(r.revision_date),
  };
}

const COLUMNS = `organization_id, url, secret, enabled, cursor_xid::text AS cursor_xid, cursor_seq::text AS cursor_seq,
  failed_attempts, next_attempt_at, delivered_count::text AS delivered_count, last_delivery_at, last_failure_at,
  last_failure, revision_date`;

/** An organization's SIEM webhook: its settings, its place in the event stream and its delivery state. */
@Injectable()
export class SiemWebhookRepository {
  constructor(private readonly db: Database) {}

  async find(organizationId: string): Promise<SiemWebhook | null> {
    const [row] = await this.db.rows<Row>(`SELECT ${COLUMNS} FROM siem_webhook WHERE organization_id = $1`, [
      organizationId,
    ]);
    return row ? toWebhook(row) : null;
  }

  /**
   * Organizations whose webhook is on, not waiting for a retry, and has readable events past its
   * cursor — one statement, so idle webhooks cost no lock or further query per round.
   */
  async due(now: Date): Promise<string[]> {
    const rows = await this.db.rows<{ organization_id: string }>(
      `SELECT w.organization_id FROM siem_webhook w
        WHERE w.enabled AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= $1)
          AND EXISTS (
            SELECT 1 FROM event e
             WHERE e.organization_id = w.organization_id
               AND (e.stream_xid, e.stream_seq) > (w.cursor_xid, w.cursor_seq)
               AND e.stream_xid < pg_snapshot_xmin(pg_current_snapshot()))
        ORDER BY w.next_attempt_at NULLS FIRST, w.organization_id`,
      [now],
    );
    return rows.map((r) => r.organization_id);
  }

  /**
   * Creates or replaces the settings. A new webhook starts at `start` (events stored from now on);
   * a changed one keeps its cursor (nothing already queued is skipped) and is tried again at once.
   */
  async save(
    organizationId: string,
    url: string,
    secret: string,
    enabled: boolean,
    start: StreamCursor,
  ): Promise<void> {
    await this.db.execute(
      `INSERT INTO siem_webhook (organization_id, url, secret, enabled, cursor_xid, cursor_seq, creation_date, revision_date)
       VALUES ($1, $2, $3, $4, $5::xid8, $6::bigint, $7, $7)
       ON CONFLICT (organization_id) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret,
         enabled = EXCLUDED.enabled, failed_attempts = 0, next_attempt_at = NULL, revision_date = EXCLUDED.revision_date`,
      [organizationId, url, secret, enabled, start.xid, start.seq, new Date()],
    );
  }

  async remove(organizationId: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM siem_webhook WHERE organization_id = $1', [organizationId])) > 0;
  }

  /**
   * A batch was accepted: move the cursor from `from` to `to`. Conditional on the cursor still being
   * `from`, so a delivery whose lock lease ran out cannot move a cursor another instance moved.
   */
  async delivered(organizationId: string, from: StreamCursor, to: StreamCursor, count: number): Promise<boolean> {
    const moved = await this.db.execute(
      `UPDATE siem_webhook SET cursor_xid = $4::xid8, cursor_seq = $5::bigint, delivered_count = delivered_count + $6,
              failed_attempts = 0, next_attempt_at = NULL, last_delivery_at = $7
        WHERE organization_id = $1 AND cursor_xid = $2::xid8 AND cursor_seq = $3::bigint`,
      [organizationId, from.xid, from.seq, to.xid, to.seq, count, new Date()],
    );
    return moved > 0;
  }

  /** A delivery failed: keep the cursor, record why and when, wait `delayMs` before the next try. */
  async failed(organizationId: string, reason: string, delayMs: number): Promise<void> {
    const now = new Date();
    await this.db.execute(
      `UPDATE siem_webhook SET failed_attempts = failed_attempts + 1, last_failure_at = $2, last_failure = $3,
              next_attempt_at = $4
        WHERE organization_id = $1`,
      [organizationId, now, reason.slice(0, 500), new Date(now.getTime() + delayMs)],
    );
  }
}
