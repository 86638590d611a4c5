import { SCIM_MAX_RESULTS } from './scim-paging';
import { GROUP_SCHEMA, USER_SCHEMA } from './scim.repository';

const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

interface Attribute {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  subAttributes?: Attribute[];
  referenceTypes?: string[];
}

const attr = (
  name: string,
  type: Attribute['type'],
  description: string,
  extra: Partial<Attribute> = {},
): Attribute => ({
  name,
  type,
  multiValued: false,
  description,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
});

/**
 * What Keyhaven really does with each attribute: the User's address is chosen once, at creation
 * (`immutable`); only `active` (revoke/restore) changes later; `externalId` is a common attribute
 * (RFC 7643 §3.1), filterable and patchable, unique per organization.
 */
const USER_ATTRIBUTES: Attribute[] = [
  attr('userName', 'string', 'The member’s email address; unique in the organization.', {
    required: true,
    mutability: 'immutable',
    uniqueness: 'server',
  }),
  attr('name', 'complex', 'The account’s name.', {
    mutability: 'readOnly',
    subAttributes: [attr('formatted', 'string', 'The full name.', { mutability: 'readOnly' })],
  }),
  attr('displayName', 'string', 'The account’s name, or the address before the invitation is accepted.', {
    mutability: 'readOnly',
  }),
  attr('emails', 'complex', 'The address the invitation goes to (primary, else work, else the first).', {
    multiValued: true,
    mutability: 'immutable',
    subAttributes: [
      attr('value', 'string', 'The address.', { mutability: 'immutable' }),
      attr('type', 'string', 'Always "work" in responses.', { mutability: 'immutable' }),
      attr('primary', 'boolean', 'Always true in responses.', { mutability: 'immutable' }),
    ],
  }),
  attr('active', 'boolean', 'false revokes the membership (access ends at once); true restores it.'),
  attr('groups', 'complex', 'Not returned: group membership is managed on Groups.', {
    multiValued: true,
    mutability: 'readOnly',
    returned: 'never',
    subAttributes: [attr('value', 'string', 'A group id.', { mutability: 'readOnly', returned: 'never' })],
  }),
];

const GROUP_ATTRIBUTES: Attribute[] = [
  attr('displayName', 'string', 'The group’s name.', { required: true }),
  attr('members', 'complex', 'Members by User id; accepted on writes, never returned.', {
    multiValued: true,
    returned: 'never',
    subAttributes: [
      attr('value', 'string', 'The User id (membership id).', { mutability: 'immutable', returned: 'never' }),
    ],
  }),
];

const SCHEMAS = [
  { id: USER_SCHEMA, name: 'User', description: 'An organization member', attributes: USER_ATTRIBUTES },
  { id: GROUP_SCHEMA, name: 'Group', description: 'An organization group', attributes: GROUP_ATTRIBUTES },
];

const RESOURCE_TYPES = [
  { id: 'User', name: 'User', endpoint: '/Users', description: 'Organization members', schema: USER_SCHEMA },
  { id: 'Group', name: 'Group', endpoint: '/Groups', description: 'Organization groups', schema: GROUP_SCHEMA },
];

/** RFC 7644 §5: what this service supports, and nothing it does not. */
export function serviceProviderConfig(base: string): Record<string, unknown> {
  return {
    schemas: [SPC_SCHEMA],
    documentationUri: null,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: SCIM_MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'SCIM API key',
        description: 'The organization’s SCIM API key, as `Authorization: Bearer <key>` (or the bare key).',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export function resourceTypes(base: string): Record<string, unknown>[] {
  return RESOURCE_TYPES.map((t) => ({
    schemas: [RESOURCE_TYPE_SCHEMA],
    ...t,
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/${t.id}` },
  }));
}

export function schemas(base: string): Record<string, unknown>[] {
  return SCHEMAS.map((s) => ({
    schemas: [SCHEMA_SCHEMA],
    ...s,
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${s.id}` },
  }));
}
