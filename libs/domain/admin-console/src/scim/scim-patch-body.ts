import { z } from 'zod';
import { scimBadRequest } from './scim-error';

/** `true`/`false`, or Entra's strings "True"/"False" in any case; anything else is null. */
export function readBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return null;
}

/** Top-level property names in lower case: SCIM attribute names are case-insensitive (RFC 7643 §2.1). */
export function lowerKeys(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw scimBadRequest('The request body must be a JSON object.', 'invalidSyntax');
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v]));
}

const operation = z
  .record(z.string(), z.unknown())
  .transform((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v])))
  .pipe(
    z.object({
      op: z.string().max(20),
      path: z.string().max(1000).nullish(),
      value: z.unknown().optional(),
    }),
  );

/** RFC 7644 §3.5.2 PatchOp body; `Operations` in any case. */
export const patchBodySchema = z
  .record(z.string(), z.unknown())
  .transform((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v])))
  .pipe(z.object({ operations: z.array(operation).min(1).max(1000) }));

export interface PatchOperation {
  readonly op: 'add' | 'remove' | 'replace';
  readonly path?: string;
  readonly value?: unknown;
}

/**
 * Operations limited to `attributes` and spelled canonically, for scim-patch: `op` lower-cased, a
 * path or a value's property named in any case mapped to its attribute (Entra sends `displayname`),
 * schema URN prefixes dropped. Operations on other attributes are left out: directories send
 * attributes Keyhaven does not store (titles, phone numbers) and expect them to be accepted.
 */
export function normalizeOperations(
  body: z.infer<typeof patchBodySchema>,
  attributes: readonly string[],
): PatchOperation[] {
  const canonical = new Map(attributes.map((a) => [a.toLowerCase(), a]));
  const nameOf = (raw: string): string | undefined => canonical.get(raw.replace(/^urn:[^ ]*:/i, '').toLowerCase());
  const out: PatchOperation[] = [];
  for (const { op: rawOp, path, value } of body.operations) {
    const op = rawOp.toLowerCase();
    if (op !== 'add' && op !== 'remove' && op !== 'replace')
      throw scimBadRequest(`Unknown patch operation ${rawOp}.`, 'invalidSyntax');
    if (path) {
      const name = nameOf(path);
      if (name) out.push(value === undefined ? { op, path: name } : { op, path: name, value });
      continue;
    }
    if (op === 'remove') throw scimBadRequest('A remove operation needs a path.', 'noTarget');
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw scimBadRequest('An operation without a path needs an object value.', 'invalidValue');
    const kept = Object.entries(value).flatMap(([k, v]) => {
      const name = nameOf(k);
      return name ? [[name, v] as const] : [];
    });
    if (kept.length > 0) out.push({ op, value: Object.fromEntries(kept) });
  }
  return out;
}

/** zod at the SCIM edge: a body that does not fit is a 400 `invalidSyntax` in SCIM's shape. */
export function parseScim<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw scimBadRequest(`${where}${issue?.message ?? 'invalid request body'}`, 'invalidSyntax');
}
