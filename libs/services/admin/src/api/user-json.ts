import type { OperatorOrganization, OperatorUser } from '@keyhaven/domain-admin-console';

/** Vaultwarden's `_Status`: 0 enabled, 2 disabled (1, invited placeholder accounts, does not exist here). */
export function userJson(user: OperatorUser): Record<string, unknown> {
  return {
    object: 'adminUser',
    id: user.id,
    name: user.name,
    email: user.email,
    emailVerified: user.emailVerified,
    userEnabled: user.enabled,
    _Status: user.enabled ? 0 : 2,
    twoFactorEnabled: user.twoFactorEnabled,
    createdAt: user.creationDate,
    lastActive: user.lastActive,
    organizations: user.organizations.map((o) => ({ id: o.id, name: o.name, type: o.type, status: o.status })),
  };
}

export function organizationJson(org: OperatorOrganization): Record<string, unknown> {
  return {
    object: 'adminOrganization',
    id: org.id,
    name: org.name,
    billingEmail: org.billingEmail,
    seats: org.seats,
    enabled: org.enabled,
    createdAt: org.creationDate,
    members: org.members,
    revoked: org.revoked,
  };
}
