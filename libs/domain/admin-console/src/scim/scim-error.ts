/** RFC 7644 §3.12 error body; the HTTP status is repeated in it as a string. */
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type ScimErrorType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export function scimErrorBody(status: number, detail: string, scimType?: ScimErrorType): Record<string, unknown> {
  return { schemas: [SCIM_ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

/**
 * A refusal in SCIM's own terms. It carries its wire body (`status` + `body()`), which the global
 * error filter sends as it is; other errors on SCIM paths are converted to this shape there.
 */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly scimType?: ScimErrorType,
  ) {
    super(detail);
  }

  body(): Record<string, unknown> {
    return scimErrorBody(this.status, this.message, this.scimType);
  }
}

export const scimNotFound = (what: 'User' | 'Group'): ScimError => new ScimError(404, `${what} not found.`);
export const scimBadRequest = (detail: string, scimType?: ScimErrorType): ScimError =>
  new ScimError(400, detail, scimType);
export const scimConflict = (detail: string): ScimError => new ScimError(409, detail, 'uniqueness');

/**
 * Runs a write the SCIM service checked for clashes beforehand. Two requests can pass that check
 * together (two SCIM instances, or requests interleaving on the embedded database); the later write
 * is then refused by a unique index or by the member service. When it fails and `clash()` now names
 * an existing duplicate, the answer is SCIM's 409 uniqueness, whatever refused the write.
 */
export async function conflictIfClash<T>(write: () => Promise<T>, clash: () => Promise<string | null>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof ScimError) throw error;
    const detail = await clash();
    if (detail !== null) throw scimConflict(detail);
    throw error;
  }
}
