import { parse } from 'scim2-parse-filter';
import { parseGuid } from '@keyhaven/contracts';
import { scimBadRequest } from './scim-error';
import type { PatchOperation } from './scim-patch-body';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Member ids from `[{value}]` (or bare strings); values that are not GUIDs are skipped, as Bitwarden does. */
export function memberValues(value: unknown): string[] {
  const list: unknown[] = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.flatMap((entry: unknown) => {
    const raw: unknown =
      typeof entry === 'object' && entry !== null
        ? Object.entries(entry).find(([k]) => k.toLowerCase() === 'value')?.[1]
        : entry;
    return typeof raw === 'string' && GUID.test(raw) ? [parseGuid(raw, 'value')] : [];
  });
}

/** `members[value eq "id"]` (or several `eq` joined by `or`) → the ids; any other selector is a 400. */
function selectedMembers(path: string): string[] {
  let selector;
  try {
    selector = parse(path);
  } catch {
    throw scimBadRequest(`The path ${path} is not valid.`, 'invalidPath');
  }
  if (selector.op !== '[]' || selector.attrPath.toLowerCase() !== 'members')
    throw scimBadRequest(`The path ${path} is not supported.`, 'invalidPath');
  const ids: string[] = [];
  const visit = (node: typeof selector.valFilter): void => {
    if (node.op === 'or') {
      node.filters.forEach(visit);
      return;
    }
    if (node.op === 'eq' && node.attrPath.toLowerCase() === 'value' && typeof node.compValue === 'string') {
      ids.push(...memberValues(node.compValue));
      return;
    }
    throw scimBadRequest(`Members are selected by value eq only: ${path}.`, 'invalidPath');
  };
  visit(selector.valFilter);
  return ids;
}

const isMembersPath = (path: string): boolean => /^members(\[|$)/i.test(path.trim());

/**
 * Splits a Group PATCH into the member operations, applied here to the set of member ids (set
 * arithmetic: a 5,000-member add is linear, and an add of members already there changes nothing),
 * and the rest, for scim-patch. Returns the members afterwards and the remaining operations.
 */
export function applyMemberOperations(
  current: ReadonlySet<string>,
  operations: readonly { op: string; path?: string | null | undefined; value?: unknown }[],
): { members: Set<string>; rest: typeof operations } {
  const members = new Set(current);
  const rest: (typeof operations)[number][] = [];
  for (const operation of operations) {
    const op = operation.op.toLowerCase() as PatchOperation['op'];
    const path = operation.path?.trim();
    if (!path && (op === 'add' || op === 'replace') && isObject(operation.value)) {
      // No path: the value's `members` is a member operation, its other properties are not.
      const entries = Object.entries(operation.value);
      const listed = entries.find(([k]) => k.toLowerCase() === 'members');
      if (listed) applyList(members, op, memberValues(listed[1]));
      const others = entries.filter(([k]) => k.toLowerCase() !== 'members');
      if (others.length > 0) rest.push({ ...operation, value: Object.fromEntries(others) });
      continue;
    }
    if (!path || !isMembersPath(path)) {
      rest.push(operation);
      continue;
    }
    if (path.toLowerCase() === 'members') {
      if (op === 'remove' && (operation.value === undefined || operation.value === null)) members.clear();
      else applyList(members, op, memberValues(operation.value));
      continue;
    }
    const selected = selectedMembers(path);
    if (op === 'remove') for (const id of selected) members.delete(id);
    else if (op === 'add') for (const id of selected) members.add(id);
    else throw scimBadRequest('replace with a member selector is not supported.', 'invalidPath');
  }
  return { members, rest };
}

function applyList(members: Set<string>, op: PatchOperation['op'], ids: string[]): void {
  if (op === 'replace') members.clear();
  if (op === 'remove') for (const id of ids) members.delete(id);
  else for (const id of ids) members.add(id);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
