import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

export interface OrganizationDomain {
  readonly id: string;
  readonly organizationId: string;
  readonly domainName: string;
  readonly txt: string;
  readonly creationDate: Date;
  readonly nextRunDate: Date;
  readonly jobRunCount: number;
  readonly verifiedDate: Date | null;
  readonly lastCheckedDate: Date | null;
}

interface DomainRow {
  id: string;
  organization_id: string;
  domain_name: string;
  txt: string;
  creation_date: Date;
  next_run_date: Date;
  job_run_count: number;
  verified_date: Date | null;
  last_checked_date: Date | null;
}

const date = (v: Date | null): Date | null => (v === null ? null : new Date(v));

const toDomain = (r: DomainRow): OrganizationDomain => ({
  id: r.id,
  organizationId: r.organization_id,
  domainName: r.domain_name,
  txt: r.txt,
  creationDate: new Date(r.creation_date),
  nextRunDate: new Date(r.next_run_date),
  jobRunCount: r.job_run_count,
  verifiedDate: date(r.verified_date),
  lastCheckedDate: date(r.last_checked_date),
});

/** What the anonymous `domain/sso/verified` lookup answers per organization. */
export interface VerifiedDomainSso {
  readonly organizationIdentifier: string;
  readonly organizationName: string;
  readonly domainName: string;
}

/** The `organization_domain` rows (claimed domains). */
@Injectable()
export class OrganizationDomainRepository {
  constructor(private readonly db: Database) {}

  async listForOrg(organizationId: string): Promise<OrganizationDomain[]> {
    const rows = await this.db.rows<DomainRow>(
      'SELECT * FROM organization_domain WHERE organization_id = $1 ORDER BY creation_date, domain_name',
      [organizationId],
    );
    return rows.map(toDomain);
  }

  async findInOrg(organizationId: string, id: string): Promise<OrganizationDomain | null> {
    const rows = await this.db.rows<DomainRow>(
      'SELECT * FROM organization_domain WHERE organization_id = $1 AND id = $2',
      [organizationId, id],
    );
    return rows[0] ? toDomain(rows[0]) : null;
  }

  async findByName(organizationId: string, domainName: string): Promise<OrganizationDomain | null> {
    const rows = await this.db.rows<DomainRow>(
      'SELECT * FROM organization_domain WHERE organization_id = $1 AND domain_name = $2',
      [organizationId, domainName],
    );
    return rows[0] ? toDomain(rows[0]) : null;
  }

  /** The organization holding `domainName` verified, if any. */
  async verifiedOwner(domainName: string): Promise<string | null> {
    const rows = await this.db.rows<{ organization_id: string }>(
      'SELECT organization_id FROM organization_domain WHERE domain_name = $1 AND verified_date IS NOT NULL',
      [domainName],
    );
    return rows[0]?.organization_id ?? null;
  }

  /** False when the name already exists for this organization (unique index), so a race answers 409 too. */
  async insert(domain: OrganizationDomain): Promise<boolean> {
    const rows = await this.db.rows(
      `INSERT INTO organization_domain (id, organization_id, domain_name, txt, creation_date, next_run_date, job_run_count)
       VALUES ($1, $2, $3, $4, $5, $6, 0)
       ON CONFLICT (organization_id, domain_name) DO NOTHING RETURNING id`,
      [domain.id, domain.organizationId, domain.domainName, domain.txt, domain.creationDate, domain.nextRunDate],
    );
    return rows.length === 1;
  }

  /**
   * Records one check. A successful one sets `verified_date` only while no organization holds the
   * name verified (the partial unique index makes the loser of a race fail, not both succeed).
   */
  async recordCheck(id: string, verified: boolean, at: Date, nextRunDate: Date): Promise<OrganizationDomain | null> {
    const rows = await this.db.rows<DomainRow>(
      `UPDATE organization_domain d SET last_checked_date = $2, job_run_count = d.job_run_count + 1,
         next_run_date = $3,
         verified_date = CASE WHEN $4::boolean AND NOT EXISTS (
           SELECT 1 FROM organization_domain o WHERE o.domain_name = d.domain_name AND o.verified_date IS NOT NULL
         ) THEN $2 ELSE d.verified_date END
       WHERE d.id = $1 RETURNING *`,
      [id, at, nextRunDate, verified],
    );
    return rows[0] ? toDomain(rows[0]) : null;
  }

  async delete(organizationId: string, id: string): Promise<OrganizationDomain | null> {
    const rows = await this.db.rows<DomainRow>(
      'DELETE FROM organization_domain WHERE organization_id = $1 AND id = $2 RETURNING *',
      [organizationId, id],
    );
    return rows[0] ? toDomain(rows[0]) : null;
  }

  /**
   * Organizations that verified the email's domain and can be signed into with SSO: enabled, with an
   * identifier and an enabled SSO configuration.
   */
  async verifiedSsoFor(domainName: string): Promise<VerifiedDomainSso[]> {
    return this.db.rows<VerifiedDomainSso>(
      `SELECT o.identifier AS "organizationIdentifier", o.name AS "organizationName", d.domain_name AS "domainName"
       FROM organization_domain d
       JOIN organization o ON o.id = d.organization_id
       JOIN sso_config s ON s.organization_id = o.id
       WHERE d.domain_name = $1 AND d.verified_date IS NOT NULL AND o.enabled AND s.enabled
         AND o.identifier IS NOT NULL AND o.identifier <> ''
       ORDER BY o.name`,
      [domainName],
    );
  }
}
