import { MemberStatus } from '../enums';
import { GROUP_SCHEMA, USER_SCHEMA, type ScimGroupRow, type ScimUserRow } from './scim.repository';

export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const iso = (d: Date): string => new Date(d).toISOString();

/** What admins paste into the directory: `{DOMAIN}/scim/v2/{organizationId}`. */
export const scimBaseUrl = (domain: string, organizationId: string): string =>
  `${domain.replace(/\/+$/, '')}/scim/v2/${organizationId}`;

/** `{base}/Users/{id}`, the resource's Location and `meta.location`. */
export const userLocation = (base: string, id: string): string => `${base}/Users/${id}`;
export const groupLocation = (base: string, id: string): string => `${base}/Groups/${id}`;

/** The Bitwarden User shape plus full RFC 7643 `meta`; `active` is false only when revoked. */
export function scimUserJson(row: ScimUserRow, base: string): Record<string, unknown> {
  const name = row.name ?? row.email;
  return {
    schemas: [USER_SCHEMA],
    id: row.id,
    externalId: row.externalId,
    userName: row.email,
    displayName: name,
    name: { formatted: name },
    emails: [{ primary: true, value: row.email, type: 'work' }],
    active: row.status !== MemberStatus.Revoked,
    groups: [],
    meta: {
      resourceType: 'User',
      created: iso(row.created),
      lastModified: iso(row.lastModified),
      location: userLocation(base, row.id),
    },
  };
}

/** Members are not returned (as Bitwarden): directories send them, they do not read them back. */
export function scimGroupJson(row: ScimGroupRow, base: string): Record<string, unknown> {
  return {
    schemas: [GROUP_SCHEMA],
    id: row.id,
    displayName: row.name,
    externalId: row.externalId,
    meta: {
      resourceType: 'Group',
      created: iso(row.created),
      lastModified: iso(row.lastModified),
      location: groupLocation(base, row.id),
    },
  };
}

export function scimListJson(
  resources: Record<string, unknown>[],
  total: number,
  startIndex: number,
): Record<string, unknown> {
  return {
    schemas: [LIST_SCHEMA],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
