import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EventType } from '@keyhaven/contracts';
import { currentRequestContext } from '@keyhaven/http';
import { Database } from './database';

/** One audit-log event as a domain reports it; who, from which device and address default to the request's. */
export interface EventInput {
  readonly type: EventType;
  readonly userId?: string | null;
  readonly organizationId?: string | null;
  readonly cipherId?: string | null;
  readonly collectionId?: string | null;
  readonly groupId?: string | null;
  readonly organizationUserId?: string | null;
  readonly policyId?: string | null;
  readonly sendId?: string | null;
  readonly providerId?: string | null;
  readonly installationId?: string | null;
  readonly domainName?: string | null;
  /** Defaults to the authenticated user of the current request. */
  readonly actingUserId?: string | null;
  /** Defaults to the current request's client device type. */
  readonly deviceType?: number | null;
  /** Defaults to the current request's client address. */
  readonly ipAddress?: string | null;
  /** Defaults to now (client-reported events carry their own). */
  readonly date?: Date;
  /** The acting system (1 = SCIM) instead of a person; defaults to the request context's. */
  readonly systemUser?: number | null;
}

/** The event as it travels: outbox payload, queue message and, column for column, the `event` row. */
export interface EventRecord {
  readonly id: string;
  readonly type: number;
  readonly userId: string | null;
  readonly organizationId: string | null;
  readonly cipherId: string | null;
  readonly collectionId: string | null;
  readonly groupId: string | null;
  readonly organizationUserId: string | null;
  readonly policyId: string | null;
  readonly sendId: string | null;
  readonly providerId: string | null;
  readonly installationId: string | null;
  readonly domainName: string | null;
  readonly actingUserId: string | null;
  readonly deviceType: number | null;
  readonly ipAddress: string | null;
  /** Optional in the payload: events queued before the field existed lack it. */
  readonly systemUser?: number | null;
  /** ISO 8601. */
  readonly date: string;
}

/** Builds the records for `inputs`, filling the request's acting user, device and address. */
export function toEventRecords(inputs: readonly EventInput[], now = new Date()): EventRecord[] {
  const context = currentRequestContext();
  return inputs.map((input) => ({
    id: randomUUID(),
    type: input.type,
    userId: input.userId ?? null,
    organizationId: input.organizationId ?? null,
    cipherId: input.cipherId ?? null,
    collectionId: input.collectionId ?? null,
    groupId: input.groupId ?? null,
    organizationUserId: input.organizationUserId ?? null,
    policyId: input.policyId ?? null,
    sendId: input.sendId ?? null,
    providerId: input.providerId ?? null,
    installationId: input.installationId ?? null,
    domainName: input.domainName ?? null,
    actingUserId: input.actingUserId !== undefined ? input.actingUserId : (context?.actingUserId ?? null),
    deviceType: input.deviceType !== undefined ? input.deviceType : (context?.deviceType ?? null),
    ipAddress: input.ipAddress !== undefined ? input.ipAddress : (context?.ipAddress ?? null),
    systemUser: input.systemUser !== undefined ? input.systemUser : (context?.systemUser ?? null),
    date: (input.date ?? now).toISOString(),
  }));
}

/**
 * Records audit-log events in the current unit of work: the rows go to `event_outbox` on the open
 * transaction's connection, so an event commits or rolls back with the change it describes, and a
 * relay takes them on to the event log from there. Many events are one multi-row insert.
 * Provided globally (InfrastructureModule), so every domain may inject it.
 */
@Injectable()
export class EventRecorder {
  constructor(private readonly db: Database) {}

  async record(input: EventInput | readonly EventInput[]): Promise<void> {
    const inputs: readonly EventInput[] = isList(input) ? input : [input];
    if (inputs.length === 0) return;
    const records = toEventRecords(inputs);
    await this.db.execute(
      `INSERT INTO event_outbox (id, payload)
       SELECT (r ->> 'id')::uuid, r FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(r, n) ORDER BY n`,
      [JSON.stringify(records)],
    );
  }
}

function isList(input: EventInput | readonly EventInput[]): input is readonly EventInput[] {
  return Array.isArray(input);
}
