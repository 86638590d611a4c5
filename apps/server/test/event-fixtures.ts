import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpResponse } from '@keyhaven/testing';
import { ok } from './org-fixtures';

/** One event as the query routes answer it (the fields the event specs read). */
export interface EventJson {
  object?: string;
  type: number;
  userId: string | null;
  organizationId: string | null;
  cipherId: string | null;
  collectionId: string | null;
  groupId: string | null;
  policyId?: string | null;
  organizationUserId: string | null;
  actingUserId: string | null;
  date: string;
  deviceType: number | null;
  ipAddress: string | null;
  sendId?: string | null;
}

export interface EventList {
  object: string;
  data: EventJson[];
  continuationToken: string | null;
}

/**
 * Reads until `done` holds or `timeoutMs` passes (bounded): the event log is written asynchronously
 * (outbox → queue → consumer), so a read right after the action may not see it yet.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  { timeoutMs = 20_000, intervalMs = 150 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(intervalMs);
  }
}

/** Every page of an event query route, following continuation tokens (at most `maxPages`). */
export async function allEventPages(
  get: (url: string) => Promise<HttpResponse<EventList>>,
  path: string,
  maxPages = 100,
): Promise<{ events: EventJson[]; pages: number }> {
  const events: EventJson[] = [];
  let token: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const url: string = token === null ? path : `${path}${sep}continuationToken=${encodeURIComponent(token)}`;
    const page: EventList = ok(await get(url), `GET ${url}`);
    assert.equal(page.object, 'list');
    events.push(...page.data);
    token = page.continuationToken;
    pages++;
  } while (token !== null && pages < maxPages);
  return { events, pages };
}
