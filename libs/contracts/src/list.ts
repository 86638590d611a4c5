/** Bitwarden's list envelope: `{object: "list", data, continuationToken}`. */
export function listJson(data: unknown[]): { object: 'list'; data: unknown[]; continuationToken: null } {
  return { object: 'list', data, continuationToken: null };
}
