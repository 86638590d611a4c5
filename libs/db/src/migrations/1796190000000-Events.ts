import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Event log (issue 9). `event_outbox` is written in the same transaction as the change an event
 * records; a relay leases its rows (FOR UPDATE SKIP LOCKED, in `seq` order, `claimed_until`) and
 * sends them to the durable queue; the events processor inserts them into `event` keyed by the event
 * id (a redelivered message is a no-op) and deletes their outbox rows in the same transaction. A row
 * whose lease ran out unconsumed is sent again. `event` has no foreign keys: the audit trail
 * outlives what it names.
 *
 * Indexes follow the queries: newest first by (date, id) within an organization, a cipher, an
 * organization's acting user, or a user's personal events; `date` alone for retention.
 */
export class Events1796190000000 implements MigrationInterface {
  name = 'Events1796190000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_outbox (
        seq bigserial PRIMARY KEY,
        id uuid NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        claimed_until timestamptz
      );
      CREATE INDEX event_outbox_id_idx ON event_outbox (id);
      CREATE TABLE event (
        id uuid PRIMARY KEY,
        type integer NOT NULL,
        user_id uuid,
        organization_id uuid,
        installation_id uuid,
        provider_id uuid,
        cipher_id uuid,
        collection_id uuid,
        policy_id uuid,
        group_id uuid,
        organization_user_id uuid,
        provider_user_id uuid,
        provider_organization_id uuid,
        send_id uuid,
        acting_user_id uuid,
        system_user_type smallint,
        domain_name text,
        device_type smallint,
        ip_address text,
        date timestamptz NOT NULL
      );
      CREATE INDEX event_org_date_idx ON event (organization_id, date DESC, id DESC)
        WHERE organization_id IS NOT NULL;
      CREATE INDEX event_org_acting_date_idx ON event (organization_id, acting_user_id, date DESC, id DESC)
        WHERE organization_id IS NOT NULL;
      CREATE INDEX event_cipher_date_idx ON event (cipher_id, date DESC, id DESC) WHERE cipher_id IS NOT NULL;
      CREATE INDEX event_user_date_idx ON event (acting_user_id, date DESC, id DESC)
        WHERE organization_id IS NULL;
      CREATE INDEX event_date_idx ON event (date);
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
