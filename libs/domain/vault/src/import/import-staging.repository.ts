import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import type { NewCipher } from '../ciphers/cipher.repository';

/** An item of an import on its way in: where it goes is given by index into the file's folders or collections. */
export interface StagedCipher extends NewCipher {
  readonly folderIndex: number | null;
  readonly collectionIndexes: readonly number[];
}

/** A staged import nobody finished within this time was cut short by a crash; the next import removes it. */
const ABANDONED_AFTER = "interval '1 hour'";

/**
 * The `cipher_import_stage` table: an import's items are written here in many short statements, each on
 * its own (no transaction), then copied into `cipher` by one set-based statement inside the import's
 * transaction. Every copy is bounded by the owner the caller passes.
 */
@Injectable()
export class ImportStagingRepository {
  constructor(private readonly db: Database) {}

  async stage(importId: string, ciphers: readonly StagedCipher[], now: Date): Promise<void> {
    if (ciphers.length === 0) return;
    await this.db.execute(
      `INSERT INTO cipher_import_stage
         (import_id, id, type, data, key, reprompt, archived_date, favorite, folder_index, collection_indexes, created)
       SELECT $1, x.id, x.type, x.data, x.key, x.reprompt, x.archived, x.favorite, x.folder_index,
              ARRAY(SELECT jsonb_array_elements_text(x.collection_indexes)::int), $2
       FROM jsonb_to_recordset($3::jsonb) AS x(id uuid, type smallint, data jsonb, key text, reprompt smallint,
         archived timestamptz, favorite boolean, folder_index int, collection_indexes jsonb)`,
      [
        importId,
        now,
        JSON.stringify(
          ciphers.map((c) => ({
            id: c.id,
            type: c.type,
            data: c.data,
            key: c.key,
            reprompt: c.reprompt,
            archived: c.archivedDate,
            favorite: c.favorite,
            folder_index: c.folderIndex,
            collection_indexes: c.collectionIndexes,
          })),
        ),
      ],
    );
  }

  /** Copies the staged items into the user's vault, each in the folder its index names (`folderIds`). */
  async copyToUser(importId: string, userId: string, folderIds: readonly string[], now: Date): Promise<void> {
    await this.db.execute(
      `INSERT INTO cipher (id, user_id, type, data, key, reprompt, creation_date, revision_date, archived_date)
       SELECT id, $2, type, data, key, reprompt, $3, $3, archived_date FROM cipher_import_stage WHERE import_id = $1`,
      [importId, userId, now],
    );
    await this.db.execute(
      `INSERT INTO cipher_user_state (user_id, cipher_id, folder_id, favorite)
       SELECT $2, s.id, f.id, s.favorite FROM cipher_import_stage s
       LEFT JOIN unnest($3::uuid[]) WITH ORDINALITY AS f(id, ord) ON f.ord = s.folder_index + 1
       WHERE s.import_id = $1`,
      [importId, userId, folderIds],
    );
  }

  /** Copies the staged items into the organization and files them in its collections (by index into `collectionIds`). */
  async copyToOrganization(
    importId: string,
    organizationId: string,
    collectionIds: readonly string[],
    now: Date,
  ): Promise<void> {
    await this.db.execute(
      `INSERT INTO cipher (id, organization_id, type, data, key, reprompt, creation_date, revision_date, archived_date)
       SELECT id, $2, type, data, key, reprompt, $3, $3, archived_date FROM cipher_import_stage WHERE import_id = $1`,
      [importId, organizationId, now],
    );
    if (collectionIds.length === 0) return;
    await this.db.execute(
      `INSERT INTO collection_cipher (collection_id, cipher_id)
       SELECT c.id, s.id FROM cipher_import_stage s
       CROSS JOIN LATERAL unnest(s.collection_indexes) AS i(idx)
       JOIN unnest($3::uuid[]) WITH ORDINALITY AS col(id, ord) ON col.ord = i.idx + 1
       JOIN collection c ON c.id = col.id AND c.organization_id = $2
       WHERE s.import_id = $1
       ON CONFLICT DO NOTHING`,
      [importId, organizationId, collectionIds],
    );
  }

  /** Removes this import's rows, and any an earlier process left behind when it stopped mid-import. */
  async discard(importId: string): Promise<void> {
    await this.db.execute(
      `DELETE FROM cipher_import_stage WHERE import_id = $1 OR created < now() - ${ABANDONED_AFTER}`,
      [importId],
    );
  }
}
