import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

export interface Organization {
  readonly id: string;
  readonly name: string;
  readonly billingEmail: string;
  readonly publicKey: string | null;
  readonly privateKey: string | null;
  readonly apiKey: string;
  readonly seats: number | null;
  readonly maxCollections: number | null;
  readonly enabled: boolean;
  readonly creationDate: Date;
  readonly revisionDate: Date;
}

interface OrganizationRow {
  id: string;
  name: string;
  billing_email: string;
  public_key: string | null;
  private_key: string | null;
  api_key: string;
  seats: number | null;
  max_collections: number | null;
  enabled: boolean;
  creation_date: Date;
  revision_date: Date;
}

const toOrganization = (r: OrganizationRow): Organization => ({
  id: r.id,
  name: r.name,
  billingEmail: r.billing_email,
  publicKey: r.public_key,
  privateKey: r.private_key,
  apiKey: r.api_key,
  seats: r.seats,
  maxCollections: r.max_collections,
  enabled: r.enabled,
  creationDate: new Date(r.creation_date),
  revisionDate: new Date(r.revision_date),
});

@Injectable()
export class OrganizationRepository {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<Organization | null> {
    const rows = await this.db.rows<OrganizationRow>('SELECT * FROM organization WHERE id = $1', [id]);
    return rows[0] ? toOrganization(rows[0]) : null;
  }

  /**
   * The organization's seat limit, its row locked until the caller's transaction ends. `FOR NO KEY
   * UPDATE` conflicts with itself (so two seat checks of one organization run one after the other on
   * PostgreSQL; PGlite runs transactions one at a time anyway) but not with the key-share lock that
   * inserting a member, collection or item row takes on its organization, so those inserts never wait.
   */
  async lockSeats(id: string): Promise<{ seats: number | null } | null> {
    if (!this.db.inTransaction()) throw new Error('lockSeats must run inside the transaction that adds the members');
    const rows = await this.db.rows<{ seats: number | null }>(
      'SELECT seats FROM organization WHERE id = $1 FOR NO KEY UPDATE',
      [id],
    );
    return rows[0] ?? null;
  }

  async findManyByIds(ids: string[]): Promise<Organization[]> {
    if (ids.length === 0) return [];
    return (await this.db.rows<OrganizationRow>('SELECT * FROM organization WHERE id = ANY($1::uuid[])', [ids])).map(
      toOrganization,
    );
  }

  async insert(org: Omit<Organization, 'creationDate' | 'revisionDate' | 'enabled'>): Promise<void> {
    const now = new Date();
    await this.db.execute(
      `INSERT INTO organization (id, name, billing_email, public_key, private_key, api_key, seats, max_collections, creation_date, revision_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
      [
        org.id,
        org.name,
        org.billingEmail,
        org.publicKey,
        org.privateKey,
        org.apiKey,
        org.seats,
        org.maxCollections,
        now,
      ],
    );
  }

  async update(
    id: string,
    change: { name?: string; billingEmail?: string; apiKey?: string; publicKey?: string; privateKey?: string },
  ): Promise<void> {
    await this.db.execute(
      `UPDATE organization SET name = COALESCE($2, name), billing_email = COALESCE($3, billing_email), api_key = COALESCE($4, api_key),
         public_key = COALESCE($5, public_key), private_key = COALESCE($6, private_key), revision_date = $7 WHERE id = $1`,
      [
        id,
        change.name ?? null,
        change.billingEmail ?? null,
        change.apiKey ?? null,
        change.publicKey ?? null,
        change.privateKey ?? null,
        new Date(),
      ],
    );
  }

  /** Members, collections, groups, policies and items go with it (foreign keys cascade). */
  async delete(id: string): Promise<void> {
    await this.db.execute('DELETE FROM organization WHERE id = $1', [id]);
  }
}
