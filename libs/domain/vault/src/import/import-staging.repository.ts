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

/** Items one statement of the landing transaction hands over (see stagedSlices). */
const LAND_PER_STATEMENT = 1000;

/**
 * Staged imports: the items go into `cipher` without an owner (invisible to every read, which is
 * bounded by an owner) and tagged with the import's id, many short statements, each on its own; their
 * folder and collection indexes go into `cipher_import_stage`. Landing the import is a few set-based
 * statements inside the import's transaction that set the owner (small columns only: the encrypted
 * data is not copied again) and file the items.
 */
@Injectable()
export class ImportStagingRepository {
  constructor(private readonly db: Database) {}

  async stage(importId: string, ciphers: readonly StagedCipher[], now: Date): Promise<void> {
    if (ciphers.length === 0) return;
    const rows = JSON.stringify(
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
    );
    await this.db.execute(
      `WITH x AS (
         SELECT * FROM jsonb_to_recordset($3::jsonb) AS x(id uuid, type smallint, data jsonb, key text,
           reprompt smallint, archived timestamptz, favorite boolean, folder_index int, collection_indexes jsonb)
       ), items AS (
         INSERT INTO cipher (id, import_id, type, data, key, reprompt, creation_date, revision_date, archived_date)
         SELECT id, $1, type, data, key, reprompt, $2, $2, archived FROM x
       )
       INSERT INTO cipher_import_stage (import_id, id, favorite, folder_index, collection_indexes, created)
       SELECT $1, id, favorite, folder_index, ARRAY(SELECT jsonb_array_elements_text(collection_indexes)::int), $2
       FROM x`,
      [importId, now, rows],
    );
  }

  /**
   * The staged ids in slices of LAND_PER_STATEMENT: the embedded database runs a statement on the event
   * loop, so landing a large import as one statement would stall every other request while it runs.
   * Read before the landing transaction, which then holds the embedded database's one connection only
   * for the writes.
   */
  async stagedSlices(importId: string): Promise<string[][]> {
    const ids = (
      await this.db.rows<{ id: string }>('SELECT id FROM cipher_import_stage WHERE import_id = $1 ORDER BY id', [
        importId,
      ])
    ).map((r) => r.id);
    const slices: string[][] = [];
    for (let i = 0; i < ids.length; i += LAND_PER_STATEMENT) slices.push(ids.slice(i, i + LAND_PER_STATEMENT));
    return slices;
  }

  /** Gives the staged items to the user, each in the folder its index names (`folderIds`). */
  async landForUser(
    importId: string,
    slices: readonly (readonly string[])[],
    userId: string,
    folderIds: readonly string[],
  ): Promise<void> {
    for (const slice of slices) {
      // The dates were set when the items were staged, with the import's own `now`.
      await this.db.execute(
        `UPDATE cipher SET user_id = $2, import_id = NULL WHERE import_id = $1 AND id = ANY($3::uuid[])`,
        [importId, userId, slice],
      );
      // Only items in a folder or marked favourite need a per-user row (reads join it as optional).
      await this.db.execute(
        `INSERT INTO cipher_user_state (user_id, cipher_id, folder_id, favorite)
         SELECT $2, s.id, f.id, s.favorite FROM cipher_import_stage s
         LEFT JOIN unnest($3::uuid[]) WITH ORDINALITY AS f(id, ord) ON f.ord = s.folder_index + 1
         WHERE s.import_id = $1 AND s.id = ANY($4::uuid[]) AND (s.favorite OR f.id IS NOT NULL)`,
        [importId, userId, folderIds, slice],
      );
    }
  }

  /** Gives the staged items to the organization and files them in its collections (by index into `collectionIds`). */
  async landForOrganization(
    importId: string,
    slices: readonly (readonly string[])[],
    organizationId: string,
    collectionIds: readonly string[],
  ): Promise<void> {
    for (const slice of slices) {
      await this.db.execute(
        `UPDATE cipher SET organization_id = $2, import_id = NULL WHERE import_id = $1 AND id = ANY($3::uuid[])`,
        [importId, organizationId, slice],
      );
      if (collectionIds.length === 0) continue;
      await this.db.execute(
        `INSERT INTO collection_cipher (collection_id, cipher_id)
         SELECT c.id, s.id FROM cipher_import_stage s
         CROSS JOIN LATERAL unnest(s.collection_indexes) AS i(idx)
         JOIN unnest($3::uuid[]) WITH ORDINALITY AS col(id, ord) ON col.ord = i.idx + 1
         JOIN collection c ON c.id = col.id AND c.organization_id = $2
         WHERE s.import_id = $1 AND s.id = ANY($4::uuid[])
         ON CONFLICT DO NOTHING`,
        [importId, organizationId, collectionIds, slice],
      );
    }
  }

  /**
   * Removes what is left of this import: its stage rows, and its items if it never landed (still
   * ownerless). Also whatever an earlier process left behind when it stopped mid-import.
   */
  async discard(importId: string): Promise<void> {
    await this.db.execute(
      `DELETE FROM cipher WHERE import_id IS NOT NULL
         AND (import_id = $1 OR creation_date < now() - ${ABANDONED_AFTER})`,
      [importId],
    );
    await this.db.execute(
      `DELETE FROM cipher_import_stage WHERE import_id = $1 OR created < now() - ${ABANDONED_AFTER}`,
      [importId],
    );
  }
}
