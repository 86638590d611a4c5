import { scimBadRequest } from './scim-error';

/** The most resources one list answer holds (advertised as `filter.maxResults`). */
export const SCIM_MAX_RESULTS = 1000;
const DEFAULT_COUNT = 100;

export interface ScimPaging {
  /** 1-based, as requested (after RFC 7644 §3.4.2.4 clamping). */
  readonly startIndex: number;
  readonly count: number;
}

function integer(raw: unknown, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !/^-?\d{1,9}$/.test(raw.trim()))
    throw scimBadRequest(`${name} must be an integer.`, 'invalidValue');
  return Number(raw.trim());
}

/** `startIndex` below 1 counts as 1 and a negative `count` as 0 (RFC 7644 §3.4.2.4); text is a 400. */
export function parsePaging(query: Record<string, unknown>): ScimPaging {
  const start = integer(query['startIndex'], 'startIndex') ?? 1;
  const count = integer(query['count'], 'count') ?? DEFAULT_COUNT;
  return { startIndex: Math.max(1, start), count: Math.min(SCIM_MAX_RESULTS, Math.max(0, count)) };
}
