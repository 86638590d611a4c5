import type { Collection, AccessSelection, CollectionForUser } from './collection.repository';
import type { Group } from './group.repository';
import type { MemberDetails } from './member.repository';
import type { Membership } from './membership';
import type { Organization } from './organization.repository';
import type { Policy } from './policy.repository';
import { MemberDecryptionType } from './sso/sso-config';
import { NO_SSO, type OrganizationSsoState } from './sso/sso-profile';

/** Every self-hosted organization has the enterprise feature set. */
const FEATURES = {
  useGroups: true,
  useDirectory: true,
  useEvents: true,
  useTotp: true,
  use2fa: true,
  useApi: true,
  useSso: true,
  // The enterprise feature: members may decrypt with a Key Connector (Keyhaven's own or another).
  useKeyConnector: true,
  useScim: true,
  useCustomPermissions: true,
  useResetPassword: true,
  usePolicies: true,
  useSecretsManager: false,
  usePasswordManager: true,
  useActivateAutofillPolicy: true,
  useOrganizationDomains: true,
  useAdminSponsoredFamilies: false,
  useRiskInsights: false,
  useAccessIntelligence: false,
  usersGetPremium: true,
  selfHost: true,
  hasPublicAndPrivateKeys: true,
  limitCollectionCreation: false,
  limitCollectionDeletion: false,
  limitItemDeletion: false,
  allowAdminAccessToAllCollectionItems: true,
};

const ENTERPRISE_PLAN = 20;

/** `maxStorageGb`: the storage the organization's items may use for attachments (the server's setting). */
export function organizationJson(org: Organization, maxStorageGb: number | null = null): Record<string, unknown> {
  return {
    id: org.id,
    name: org.name,
    billingEmail: org.billingEmail,
    businessName: null,
    plan: 'Enterprise (self-hosted)',
    planType: ENTERPRISE_PLAN,
    seats: org.seats,
    maxCollections: org.maxCollections,
    maxStorageGb,
    ...FEATURES,
    enabled: org.enabled,
    object: 'organization',
  };
}

/**
 * `profile.organizations[]` in sync: the member's view, with the org key wrapped for them, and the
 * organization's SSO state (ENTERPRISE.md §1.9). `keyConnectorEnabled` is Bitwarden's: Key Connector
 * decryption with a URL to reach it; the clients start migrating master-password members on it.
 */
export function profileOrganizationJson(
  org: Organization,
  m: Membership,
  sso: OrganizationSsoState = NO_SSO,
): Record<string, unknown> {
  return {
    id: org.id,
    name: org.name,
    key: m.key,
    status: m.status,
    type: m.type,
    enabled: org.enabled,
    userId: m.userId,
    organizationUserId: m.id,
    permissions: m.permissions,
    ...FEATURES,
    planProductType: 3,
    productTierType: 3,
    seats: org.seats,
    maxCollections: org.maxCollections,
    maxStorageGb: null,
    ssoBound: sso.ssoBound,
    identifier: sso.identifier,
    resetPasswordEnrolled: m.resetPasswordKey !== null,
    hasPublicAndPrivateKeys: org.publicKey !== null,
    providerId: null,
    providerName: null,
    providerType: null,
    familySponsorshipFriendlyName: null,
    familySponsorshipAvailable: false,
    accessSecretsManager: false,
    userIsManagedByOrganization: false,
    userIsClaimedByOrganization: false,
    keyConnectorEnabled: sso.memberDecryptionType === MemberDecryptionType.KeyConnector && !!sso.keyConnectorUrl,
    keyConnectorUrl: sso.keyConnectorUrl,
    ssoEnabled: sso.ssoEnabled,
    ssoMemberDecryptionType: sso.memberDecryptionType,
    isAdminInitiated: false,
    object: 'profileOrganization',
  };
}

export function accessJson(a: AccessSelection): Record<string, unknown> {
  return { id: a.id, readOnly: a.readOnly, hidePasswords: a.hidePasswords, manage: a.manage };
}

export function memberJson(
  m: MemberDetails,
  collections: AccessSelection[] = [],
  groups: string[] = [],
): Record<string, unknown> {
  return {
    id: m.id,
    userId: m.userId,
    type: m.type,
    status: m.status,
    permissions: m.permissions,
    externalId: m.externalId,
    resetPasswordEnrolled: m.resetPasswordKey !== null,
    usesKeyConnector: m.usesKeyConnector,
    accessSecretsManager: false,
    hasMasterPassword: m.hasMasterPassword,
    name: m.name,
    email: m.userEmail ?? m.email,
    avatarColor: null,
    twoFactorEnabled: m.twoFactorEnabled,
    ssoBound: m.ssoBound,
    managedByOrganization: false,
    claimedByOrganization: false,
    collections: collections.map(accessJson),
    groups,
    object: 'organizationUserUserDetails',
  };
}

export function collectionJson(c: Collection): Record<string, unknown> {
  return { id: c.id, organizationId: c.organizationId, name: c.name, externalId: c.externalId, object: 'collection' };
}

export function collectionDetailsJson(c: CollectionForUser): Record<string, unknown> {
  return {
    ...collectionJson(c),
    readOnly: c.readOnly,
    hidePasswords: c.hidePasswords,
    manage: c.manage,
    object: 'collectionDetails',
  };
}

export function collectionAccessJson(
  c: Collection,
  access: { users: AccessSelection[]; groups: AccessSelection[] },
  mine?: AccessSelection,
): Record<string, unknown> {
  return {
    ...collectionJson(c),
    users: access.users.map(accessJson),
    groups: access.groups.map(accessJson),
    readOnly: mine?.readOnly ?? false,
    hidePasswords: mine?.hidePasswords ?? false,
    manage: mine?.manage ?? true,
    assigned: mine !== undefined,
    object: 'collectionAccessDetails',
  };
}

export function groupJson(g: Group, collections?: AccessSelection[]): Record<string, unknown> {
  return {
    id: g.id,
    organizationId: g.organizationId,
    name: g.name,
    externalId: g.externalId,
    accessAll: false,
    ...(collections ? { collections: collections.map(accessJson) } : {}),
    object: collections ? 'groupDetails' : 'group',
  };
}

/** A policy, or (id null) the disabled default of a type never saved. */
export function policyJson(p: Omit<Policy, 'id'> & { readonly id: string | null }): Record<string, unknown> {
  return {
    id: p.id,
    organizationId: p.organizationId,
    type: p.type,
    data: p.data,
    enabled: p.enabled,
    revisionDate: p.revisionDate ? p.revisionDate.toISOString() : null,
    object: 'policy',
  };
}
