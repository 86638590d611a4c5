import { Inject, Injectable, Optional } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { KEY_CONNECTOR_LOCATOR, type KeyConnectorLocator } from './decryption-options';
import { MemberDecryptionType, decryptionTypeOf } from './sso-config';

/**
 * The SSO fields of one organization as one member sees them in `profile.organizations[]`
 * (ENTERPRISE.md §1.9). The clients act on them: a master-password member of a Key Connector
 * organization is migrated from `keyConnectorEnabled`/`keyConnectorUrl`, the device-approvals page
 * needs `ssoEnabled` with decryption type 2, and `identifier` pre-fills the SSO login.
 */
export interface OrganizationSsoState {
  readonly identifier: string | null;
  readonly ssoEnabled: boolean;
  /** Null while the organization has no SSO configuration at all (as Bitwarden). */
  readonly memberDecryptionType: MemberDecryptionType | null;
  /** Where the members' clients reach the Key Connector: the configured URL, or Keyhaven's own. */
  readonly keyConnectorUrl: string | null;
  /** This member has an IdP link (`sso_user`) in the organization. */
  readonly ssoBound: boolean;
}

export const NO_SSO: OrganizationSsoState = {
  identifier: null,
  ssoEnabled: false,
  memberDecryptionType: null,
  keyConnectorUrl: null,
  ssoBound: false,
};

interface SsoStateRow {
  organization_id: string;
  identifier: string | null;
  sso_enabled: boolean | null;
  member_decryption_type: number | null;
  key_connector_url: string | null;
  sso_bound: boolean;
}

/**
 * One statement for all of a user's organizations (sync is a hot path): the identifier, the SSO
 * configuration's switches and the member's IdP link. The configuration's sealed secrets are never
 * read here; the Key Connector URL is a plain field of the stored data.
 */
const STATE_SQL = `
  SELECT m.organization_id, o.identifier, s.enabled AS sso_enabled, s.member_decryption_type,
         s.data ->> 'keyConnectorUrl' AS key_connector_url,
         EXISTS (SELECT 1 FROM sso_user su WHERE su.organization_id = m.organization_id AND su.user_id = m.user_id)
           AS sso_bound
  FROM organization_user m
  JOIN organization o ON o.id = m.organization_id
  LEFT JOIN sso_config s ON s.organization_id = m.organization_id
  WHERE m.user_id = $1 AND ($2::uuid IS NULL OR m.organization_id = $2)`;

@Injectable()
export class SsoProfileReader {
  constructor(
    private readonly db: Database,
    // Absent only in slices without Key Connector support: then only a configured URL counts.
    @Optional() @Inject(KEY_CONNECTOR_LOCATOR) private readonly keyConnector?: KeyConnectorLocator,
  ) {}

  /** Keyed by organization id; organizations the user is not a member of are absent. */
  async forUser(userId: string): Promise<Map<string, OrganizationSsoState>> {
    return this.read(userId, null);
  }

  async forMember(organizationId: string, userId: string): Promise<OrganizationSsoState> {
    return (await this.read(userId, organizationId)).get(organizationId) ?? NO_SSO;
  }

  private async read(userId: string, organizationId: string | null): Promise<Map<string, OrganizationSsoState>> {
    const rows = await this.db.rows<SsoStateRow>(STATE_SQL, [userId, organizationId]);
    return new Map(rows.map((r) => [r.organization_id, this.toState(r)]));
  }

  private toState(r: SsoStateRow): OrganizationSsoState {
    const type = r.member_decryption_type === null ? null : decryptionTypeOf(r.member_decryption_type);
    const stored = r.key_connector_url || null;
    // Keyhaven's own Key Connector stands in for a missing URL only where members decrypt with one.
    const url =
      type === MemberDecryptionType.KeyConnector
        ? (this.keyConnector?.urlFor({ data: { keyConnectorUrl: stored } }) ?? stored)
        : stored;
    return {
      identifier: r.identifier,
      ssoEnabled: r.sso_enabled === true,
      memberDecryptionType: type,
      keyConnectorUrl: url,
      ssoBound: r.sso_bound,
    };
  }
}
