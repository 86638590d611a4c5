import { Injectable } from '@nestjs/common';
import { badRequest, notFound } from '@keyhaven/contracts';
import { Database } from '@keyhaven/db';
import { OrgAccess } from '@keyhaven/domain-admin-console';
import { EventRepository, type EventScope, type StoredEvent } from './event.repository';

/** Bitwarden's PageOptions.PageSize: events per page of every event-log route. */
export const EVENT_PAGE_SIZE = 50;
const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_RANGE_DAYS = 30;
const MAX_RANGE_DAYS = 367;

/** `start`, `end` and `continuationToken` as the clients send them (all optional). */
export interface EventRangeQuery {
  readonly start?: string | undefined;
  readonly end?: string | undefined;
  readonly continuationToken?: string | undefined;
}

export interface EventPage {
  readonly events: StoredEvent[];
  readonly continuationToken: string | null;
}

function parseDate(value: string | undefined, name: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw badRequest(`The ${name} date is not valid.`);
  return parsed;
}

/** Bitwarden's date range: 30 days back from now by default, reversed dates swapped, at most 367 days. */
export function dateRange(query: EventRangeQuery, now = new Date()): { start: Date; end: Date } {
  let start = parseDate(query.start, 'start') ?? new Date(now.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
  let end = parseDate(query.end, 'end') ?? now;
  if (start > end) [start, end] = [end, start];
  if (end.getTime() - start.getTime() > MAX_RANGE_DAYS * DAY_MS) throw badRequest('Range too large.');
  return { start, end };
}

const TOKEN = /^(\d{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** The continuation token names the last event of the previous page: `<epoch ms>.<event id>`, URL-safe as is. */
export function encodeContinuation(event: StoredEvent): string {
  return `${event.date.getTime()}.${event.id}`;
}

export function decodeContinuation(token: string | undefined): { date: Date; id: string } | undefined {
  if (token === undefined || token === '') return undefined;
  const match = TOKEN.exec(token);
  if (!match) throw badRequest('The continuation token is not valid.');
  return { date: new Date(Number(match[1])), id: String(match[2]) };
}

/**
 * The event-log queries. Organization routes are authorised by the route (`accessEventLogs`); an
 * item's events by the item: its owner for a personal one, the organization's event-log permission
 * for an organization's. Each page is one indexed query, newest first, keyed by (date, id).
 */
@Injectable()
export class EventQueryService {
  constructor(
    private readonly db: Database,
    private readonly events: EventRepository,
    private readonly orgAccess: OrgAccess,
  ) {}

  organization(organizationId: string, query: EventRangeQuery): Promise<EventPage> {
    return this.page({ kind: 'organization', organizationId }, query);
  }

  /** Events a member caused in the organization (Bitwarden: by the member's user as acting user). */
  async organizationUser(
    organizationId: string,
    organizationUserId: string,
    query: EventRangeQuery,
  ): Promise<EventPage> {
    const [member] = await this.db.rows<{ userId: string | null }>(
      `SELECT user_id AS "userId" FROM organization_user WHERE id = $1 AND organization_id = $2`,
      [organizationUserId, organizationId],
    );
    if (!member) throw notFound('Member');
    if (member.userId === null) {
      dateRange(query);
      return { events: [], continuationToken: null };
    }
    return this.page({ kind: 'organizationActingUser', organizationId, actingUserId: member.userId }, query);
  }

  async cipher(cipherId: string, userId: string, query: EventRangeQuery): Promise<EventPage> {
    const [cipher] = await this.db.rows<{ userId: string | null; organizationId: string | null }>(
      `SELECT user_id AS "userId", organization_id AS "organizationId" FROM cipher WHERE id = $1`,
      [cipherId],
    );
    const allowed =
      cipher !== undefined &&
      (cipher.organizationId !== null
        ? (await this.orgAccess.find(cipher.organizationId, userId, 'accessEventLogs')) !== null
        : cipher.userId === userId);
    if (!cipher || !allowed) throw notFound('Item');
    return this.page({ kind: 'cipher', cipherId, organizationId: cipher.organizationId }, query);
  }

  /** The caller's own events outside organizations. */
  user(userId: string, query: EventRangeQuery): Promise<EventPage> {
    return this.page({ kind: 'user', userId }, query);
  }

  /** The public API's filters: one item of the organization, one acting member, or everything. */
  async publicApi(
    organizationId: string,
    query: EventRangeQuery & { readonly actingUserId?: string | undefined; readonly itemId?: string | undefined },
  ): Promise<EventPage> {
    if (query.itemId !== undefined) {
      const [cipher] = await this.db.rows<{ id: string }>(
        `SELECT id FROM cipher WHERE id = $1 AND organization_id = $2`,
        [query.itemId, organizationId],
      );
      if (!cipher) throw notFound('Item');
      return this.page({ kind: 'cipher', cipherId: query.itemId, organizationId }, query);
    }
    if (query.actingUserId !== undefined) {
      return this.page({ kind: 'organizationActingUser', organizationId, actingUserId: query.actingUserId }, query);
    }
    return this.page({ kind: 'organization', organizationId }, query);
  }

  private async page(scope: EventScope, query: EventRangeQuery): Promise<EventPage> {
    const { start, end } = dateRange(query);
    const before = decodeContinuation(query.continuationToken);
    // One more than a page tells whether another page follows without a count.
    const rows = await this.events.page({ scope, start, end, before, limit: EVENT_PAGE_SIZE + 1 });
    const events = rows.slice(0, EVENT_PAGE_SIZE);
    const last = events.at(-1);
    return { events, continuationToken: rows.length > EVENT_PAGE_SIZE && last ? encodeContinuation(last) : null };
  }
}

/** Bitwarden's EventResponseModel, as the web vault and the CLI read it. */
export function eventJson(event: StoredEvent): Record<string, unknown> {
  return {
    object: 'event',
    type: event.type,
    userId: event.userId,
    organizationId: event.organizationId,
    providerId: event.providerId,
    cipherId: event.cipherId,
    collectionId: event.collectionId,
    groupId: event.groupId,
    policyId: event.policyId,
    organizationUserId: event.organizationUserId,
    providerUserId: null,
    providerOrganizationId: null,
    actingUserId: event.actingUserId,
    installationId: event.installationId,
    date: event.date.toISOString(),
    deviceType: event.deviceType,
    ipAddress: event.ipAddress,
    systemUser: event.systemUser,
    domainName: event.domainName,
    secretId: null,
    projectId: null,
    serviceAccountId: null,
    grantedServiceAccountId: null,
    sendId: event.sendId,
  };
}

/** The public API's EventResponseModel (items and members by their public names). */
export function publicEventJson(event: StoredEvent): Record<string, unknown> {
  return {
    object: 'event',
    type: event.type,
    itemId: event.cipherId,
    collectionId: event.collectionId,
    groupId: event.groupId,
    policyId: event.policyId,
    memberId: event.organizationUserId,
    actingUserId: event.actingUserId,
    installationId: event.installationId,
    date: event.date.toISOString(),
    device: event.deviceType,
    ipAddress: event.ipAddress,
  };
}

export function eventListJson(
  page: EventPage,
  toJson: (e: StoredEvent) => Record<string, unknown>,
): Record<string, unknown> {
  return { object: 'list', data: page.events.map(toJson), continuationToken: page.continuationToken };
}
