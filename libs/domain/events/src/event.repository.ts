import { Injectable } from '@nestjs/common';
import { Database, type EventRecord } from '@keyhaven/db';

/** An `event` row as the query API reads it. */
export interface StoredEvent {
  readonly id: string;
  readonly type: number;
  readonly userId: string | null;
  readonly organizationId: string | null;
  readonly providerId: string | null;
  readonly cipherId: string | null;
  readonly collectionId: string | null;
  readonly groupId: string | null;
  readonly policyId: string | null;
  readonly organizationUserId: string | null;
  readonly sendId: string | null;
  readonly installationId: string | null;
  readonly domainName: string | null;
  readonly actingUserId: string | null;
  readonly deviceType: number | null;
  readonly ipAddress: string | null;
  readonly systemUser: number | null;
  readonly date: Date;
}

/** Which events a page is taken from: each matches one of the indexes of the Events migration. */
export type EventScope =
  | { readonly kind: 'organization'; readonly organizationId: string }
  | { readonly kind: 'organizationActingUser'; readonly organizationId: string; readonly actingUserId: string }
  | { readonly kind: 'cipher'; readonly cipherId: string; readonly organizationId: string | null }
  | { readonly kind: 'user'; readonly userId: string };

/** Newest first; the page after `before` (the last row of the previous page) when given. */
export interface EventPageQuery {
  readonly scope: EventScope;
  readonly start: Date;
  readonly end: Date;
  readonly before?: { readonly date: Date; readonly id: string } | undefined;
  readonly limit: number;
}

const COLUMNS = `id, type, user_id AS "userId", organization_id AS "organizationId", provider_id AS "providerId",
  cipher_id AS "cipherId", collection_id AS "collectionId", group_id AS "groupId", policy_id AS "policyId",
  organization_user_id AS "organizationUserId", send_id AS "sendId", installation_id AS "installationId",
  domain_name AS "domainName", acting_user_id AS "actingUserId", device_type AS "deviceType",
  ip_address AS "ipAddress", system_user_type AS "systemUser", date`;

function scopeFilter(scope: EventScope, params: unknown[]): string {
  const p = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  switch (scope.kind) {
    case 'organization':
      return `organization_id = ${p(scope.organizationId)}`;
    case 'organizationActingUser':
      return `organization_id = ${p(scope.organizationId)} AND acting_user_id = ${p(scope.actingUserId)}`;
    case 'cipher':
      return scope.organizationId === null
        ? `cipher_id = ${p(scope.cipherId)} AND organization_id IS NULL`
        : `cipher_id = ${p(scope.cipherId)} AND organization_id = ${p(scope.organizationId)}`;
    case 'user':
      return `organization_id IS NULL AND acting_user_id = ${p(scope.userId)}`;
  }
}

/** The event log: idempotent batch inserts by the processor, indexed pages for the query API, retention. */
@Injectable()
export class EventRepository {
  constructor(private readonly db: Database) {}

  /**
   * Stores the events (a redelivered one is skipped by its id) and removes their outbox rows, in the
   * caller's transaction: one statement each, whatever the batch size. Returns the rows inserted.
   */
  async storeBatch(events: readonly EventRecord[]): Promise<number> {
    if (events.length === 0) return 0;
    const inserted = await this.insert(events);
    await this.db.execute(`DELETE FROM event_outbox WHERE id = ANY($1::uuid[])`, [events.map((e) => e.id)]);
    return inserted;
  }

  /** The rows, each once (a record already stored is skipped); the number inserted. */
  async insert(events: readonly EventRecord[]): Promise<number> {
    if (events.length === 0) return 0;
    return this.db.execute(
      `INSERT INTO event (id, type, user_id, organization_id, installation_id, provider_id, cipher_id, collection_id,
         policy_id, group_id, organization_user_id, send_id, acting_user_id, domain_name, device_type, ip_address, system_user_type, date)
       SELECT r."id", r."type", r."userId", r."organizationId", r."installationId", r."providerId", r."cipherId",
         r."collectionId", r."policyId", r."groupId", r."organizationUserId", r."sendId", r."actingUserId",
         r."domainName", r."deviceType", r."ipAddress", r."systemUser", r."date"
       FROM jsonb_to_recordset($1::jsonb) AS r("id" uuid, "type" integer, "userId" uuid, "organizationId" uuid,
         "installationId" uuid, "providerId" uuid, "cipherId" uuid, "collectionId" uuid, "policyId" uuid,
         "groupId" uuid, "organizationUserId" uuid, "sendId" uuid, "actingUserId" uuid, "domainName" text,
         "deviceType" smallint, "ipAddress" text, "systemUser" smallint, "date" timestamptz)
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(events)],
    );
  }

  /** Drops outbox rows whose events will never be stored (they went to the dead-letter queue). */
  async discardOutbox(ids: readonly string[]): Promise<void> {
    await this.db.execute(`DELETE FROM event_outbox WHERE id = ANY($1::uuid[])`, [ids]);
  }

  /** One page, newest first, through the (scope, date DESC, id DESC) index. */
  async page(query: EventPageQuery): Promise<StoredEvent[]> {
    const params: unknown[] = [];
    const where = [scopeFilter(query.scope, params)];
    params.push(query.start, query.end);
    where.push(`date >= $${params.length - 1} AND date < $${params.length}`);
    if (query.before) {
      params.push(query.before.date, query.before.id);
      where.push(`(date, id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(query.limit);
    return this.db.rows<StoredEvent>(
      `SELECT ${COLUMNS} FROM event WHERE ${where.join(' AND ')} ORDER BY date DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  }

  /** Deletes up to `limit` events older than `cutoff`; the count deleted. */
  deleteOlderThan(cutoff: Date, limit: number): Promise<number> {
    return this.db.execute(
      `DELETE FROM event WHERE id IN (SELECT id FROM event WHERE date < $1 ORDER BY date LIMIT $2)`,
      [cutoff, limit],
    );
  }
}
