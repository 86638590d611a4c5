import { z } from 'zod';
import { badRequest } from './errors';

/**
 * Any .NET GUID in its 8-4-4-4-12 form. Bitwarden's clients and export files carry ids of every
 * version and variant (not only RFC 9562's 1–8), so the version and variant nibbles are not checked.
 */
const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID_PATTERN.test(value);
}

/** The one id schema of every route: a GUID, normalised to lower case (ids are compared as strings). */
export const guid = z
  .string()
  .regex(GUID_PATTERN, 'Must be a GUID.')
  .transform((value) => value.toLowerCase());

/** A path or query id: a GUID in lower case, or a 400 naming the parameter. */
export function parseGuid(value: unknown, name = 'id'): string {
  if (typeof value !== 'string' || !isGuid(value)) {
    throw badRequest(`${name} must be a GUID.`, { [name]: ['Must be a GUID.'] });
  }
  return value.toLowerCase();
}
