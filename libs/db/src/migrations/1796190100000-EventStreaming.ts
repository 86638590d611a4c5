import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Activity tracking and SIEM streaming (issue 9, part 2).
 *
 * `app_user.last_activity_date`: set on token issuance, refresh and sync (at most every few
 * minutes), indexed for the active/dormant reports.
 *
 * Streaming reads the stored `event` rows in the order they became visible, never missing one that
 * commits late: each row carries the id of the transaction that stored it (`stream_xid`) and a
 * sequence number. A reader takes only rows whose transaction is older than every transaction still
 * running (`pg_snapshot_xmin`), so once it moves its cursor past (xid, seq) no row below can still
 * appear. The columns fill themselves by default, whatever statement inserts the event.
 *
 * `siem_webhook`: one per organization (URL, signing secret, cursor, retry state and the last
 * failure shown to the organization's admins). `event_stream_cursor`: the operator's streams (syslog).
 */
export class EventStreaming1796190100000 implements MigrationInterface {
  name = 'EventStreaming1796190100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE app_user ADD COLUMN last_activity_date timestamptz;
      CREATE INDEX app_user_last_activity_idx ON app_user (last_activity_date);

      ALTER TABLE event ADD COLUMN stream_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
      ALTER TABLE event ADD COLUMN stream_seq bigserial;
      CREATE INDEX event_stream_idx ON event (stream_xid, stream_seq);
      CREATE INDEX event_org_stream_idx ON event (organization_id, stream_xid, stream_seq)
        WHERE organization_id IS NOT NULL;

      CREATE TABLE siem_webhook (
        organization_id uuid PRIMARY KEY REFERENCES organization (id) ON DELETE CASCADE,
        url text NOT NULL,
        secret text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        cursor_xid xid8 NOT NULL,
        cursor_seq bigint NOT NULL DEFAULT 0,
        failed_attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        delivered_count bigint NOT NULL DEFAULT 0,
        last_delivery_at timestamptz,
        last_failure_at timestamptz,
        last_failure text,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL
      );
      CREATE INDEX siem_webhook_due_idx ON siem_webhook (next_attempt_at) WHERE enabled;

      CREATE TABLE event_stream_cursor (
        name text PRIMARY KEY,
        cursor_xid xid8 NOT NULL,
        cursor_seq bigint NOT NULL DEFAULT 0,
        failed_attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        delivered_count bigint NOT NULL DEFAULT 0,
        last_delivery_at timestamptz,
        last_failure_at timestamptz,
        last_failure text
      );
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
