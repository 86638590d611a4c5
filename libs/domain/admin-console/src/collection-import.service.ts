import { randomUUID } from 'node:crypto';
import { Injectable, Module } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { CollectionRepository } from './collection.repository';

/** A collection as an import file names it: its id in the file, its encrypted name, an external id. */
export interface ImportedCollection {
  readonly id?: string | null;
  readonly name: string;
  readonly externalId?: string | null;
}

/**
 * Collections for an organization import (the vault's `ciphers/import-organization`), in a number of
 * statements that does not grow with the file.
 */
@Injectable()
export class CollectionImportService {
  constructor(
    private readonly db: Database,
    private readonly collections: CollectionRepository,
  ) {}

  /**
   * The collection id for each entry, in the file's order: an id the organization already has is
   * reused, every other entry becomes a new collection (without access rows: admins reach it). Runs
   * in the caller's transaction when one is open.
   */
  async createForImport(organizationId: string, entries: readonly ImportedCollection[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const fileIds = entries.flatMap((e) => (e.id ? [e.id] : []));
    const existing = new Set(await this.collections.existingInOrg(organizationId, fileIds));
    const ids = entries.map((e) => (e.id && existing.has(e.id) ? e.id : randomUUID()));
    const created = entries.flatMap((e, i) =>
      e.id && existing.has(e.id) ? [] : [{ id: ids[i], name: e.name, external_id: e.externalId ?? null }],
    );
    if (created.length > 0)
      await this.db.execute(
        `INSERT INTO collection (id, organization_id, name, external_id, creation_date, revision_date)
         SELECT x.id, $1, x.name, x.external_id, $2, $2
         FROM jsonb_to_recordset($3::jsonb) AS x(id uuid, name text, external_id text)`,
        [organizationId, new Date(), JSON.stringify(created)],
      );
    return ids;
  }
}

/** Provides the import method on its own, for the vault module to import. */
@Module({ providers: [CollectionImportService], exports: [CollectionImportService] })
export class CollectionImportModule {}
