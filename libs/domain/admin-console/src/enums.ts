/** Bitwarden's wire numbers for organizations. */
export const MemberStatus = { Revoked: -1, Invited: 0, Accepted: 1, Confirmed: 2 } as const;
export type MemberStatus = (typeof MemberStatus)[keyof typeof MemberStatus];

export const MemberType = { Owner: 0, Admin: 1, User: 2, Custom: 4 } as const;
export type MemberType = (typeof MemberType)[keyof typeof MemberType];

export const PolicyType = {
  TwoFactorAuthentication: 0,
  MasterPassword: 1,
  PasswordGenerator: 2,
  SingleOrg: 3,
  RequireSso: 4,
  OrganizationDataOwnership: 5,
  DisableSend: 6,
  SendOptions: 7,
  ResetPassword: 8,
  MaximumVaultTimeout: 9,
  DisablePersonalVaultExport: 10,
  ActivateAutofill: 11,
  AutomaticAppLogIn: 12,
  FreeFamiliesSponsorshipPolicy: 13,
  RemoveUnlockWithPin: 14,
  RestrictedItemTypes: 15,
  UriMatchDefaults: 16,
  AutotypeDefault: 17,
  AutoConfirm: 18,
  BlockClaimedDomainAccountCreation: 19,
  OrganizationUserNotification: 20,
  SendControls: 21,
  FillAssist: 22,
} as const;
export const KNOWN_POLICY_TYPES: readonly number[] = Object.values(PolicyType);

/** The Custom role's flags; each gates the matching admin action on the server. */
export const PERMISSION_FLAGS = [
  'accessEventLogs',
  'accessImportExport',
  'accessReports',
  'createNewCollections',
  'editAnyCollection',
  'deleteAnyCollection',
  'manageGroups',
  'managePolicies',
  'manageSso',
  'manageUsers',
  'manageResetPassword',
  'manageScim',
] as const;
export type PermissionFlag = (typeof PERMISSION_FLAGS)[number];
export type Permissions = Record<PermissionFlag, boolean>;

export function normalizePermissions(input: unknown): Permissions {
  const source = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  return Object.fromEntries(PERMISSION_FLAGS.map((f) => [f, source[f] === true])) as Permissions;
}
