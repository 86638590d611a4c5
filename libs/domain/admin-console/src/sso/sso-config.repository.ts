import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { SecretBox } from './secret-box';
import {
  MemberDecryptionType,
  SSO_SECRET_FIELDS,
  configTypeOf,
  decryptionTypeOf,
  ssoConfigDataSchema,
  type SsoConfig,
  type SsoConfigData,
} from './sso-config';

interface SsoConfigRow {
  id: string;
  organization_id: string;
  enabled: boolean;
  config_type: number;
  member_decryption_type: number;
  data: Record<string, unknown>;
  secrets: string | null;
  revision_date: Date;
}

/** `sso_config`: one row per organization; secret fields sealed with the SecretBox. */
@Injectable()
export class SsoConfigRepository {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  async findByOrganization(organizationId: string): Promise<SsoConfig | null> {
    const rows = await this.db.rows<SsoConfigRow>('SELECT * FROM sso_config WHERE organization_id = $1', [
      organizationId,
    ]);
    return rows[0] ? this.toConfig(rows[0]) : null;
  }

  /** Whether the organization's members decrypt with trusted devices under an enabled configuration (no secret opened). */
  async usesTrustedDevices(organizationId: string): Promise<boolean> {
    const rows = await this.db.rows(
      'SELECT 1 FROM sso_config WHERE organization_id = $1 AND enabled AND member_decryption_type = $2',
      [organizationId, MemberDecryptionType.TrustedDeviceEncryption],
    );
    return rows.length > 0;
  }

  /** Inserts or replaces the organization's configuration. */
  async save(organizationId: string, enabled: boolean, data: SsoConfigData): Promise<void> {
    const secretNames: ReadonlySet<string> = new Set(SSO_SECRET_FIELDS);
    const entries = (Object.entries(data) as [string, unknown][]).filter(
      ([, value]) => value !== undefined && value !== null,
    );
    const plain = Object.fromEntries(entries.filter(([name]) => !secretNames.has(name)));
    const secret = Object.fromEntries(entries.filter(([name]) => secretNames.has(name)));
    const sealed = Object.keys(secret).length > 0 ? await this.box.seal(JSON.stringify(secret), organizationId) : null;
    const now = new Date();
    await this.db.execute(
      `INSERT INTO sso_config (id, organization_id, enabled, config_type, member_decryption_type, data, secrets, creation_date, revision_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
       ON CONFLICT (organization_id) DO UPDATE SET enabled = EXCLUDED.enabled, config_type = EXCLUDED.config_type,
         member_decryption_type = EXCLUDED.member_decryption_type, data = EXCLUDED.data, secrets = EXCLUDED.secrets,
         revision_date = EXCLUDED.revision_date`,
      [
        randomUUID(),
        organizationId,
        enabled,
        data.configType,
        data.memberDecryptionType ?? MemberDecryptionType.MasterPassword,
        JSON.stringify(plain),
        sealed,
        now,
      ],
    );
  }

  private async toConfig(row: SsoConfigRow): Promise<SsoConfig> {
    const secret = row.secrets
      ? (JSON.parse(await this.box.open(row.secrets, row.organization_id)) as Record<string, unknown>)
      : {};
    const parsed = ssoConfigDataSchema.safeParse({ ...row.data, ...secret });
    const data: SsoConfigData = parsed.success ? parsed.data : { configType: row.config_type };
    return {
      id: row.id,
      organizationId: row.organization_id,
      enabled: row.enabled,
      type: configTypeOf(row.config_type),
      memberDecryptionType: decryptionTypeOf(row.member_decryption_type),
      data,
      revisionDate: new Date(row.revision_date),
    };
  }
}
