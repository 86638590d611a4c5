import type { Sql } from '@keyhaven/db';
import type { Cipher } from './cipher';

/** A `cipher` row joined with the reader's folder and favourite. */
export interface CipherRow {
  id: string;
  user_id: string | null;
  organization_id: string | null;
  type: number;
  data: Record<string, unknown>;
  key: string | null;
  reprompt: number;
  creation_date: Date;
  revision_date: Date;
  deleted_date: Date | null;
  archived_date: Date | null;
  folder_id: string | null;
  favorite: boolean | null;
}

export function cipherFromRow(r: CipherRow): Cipher {
  return {
    id: r.id,
    userId: r.user_id,
    organizationId: r.organization_id,
    type: r.type,
    data: r.data,
    key: r.key,
    reprompt: r.reprompt,
    creationDate: new Date(r.creation_date),
    revisionDate: new Date(r.revision_date),
    deletedDate: r.deleted_date ? new Date(r.deleted_date) : null,
    archivedDate: r.archived_date ? new Date(r.archived_date) : null,
    folderId: r.folder_id,
    favorite: r.favorite ?? false,
  };
}

export interface CipherInsert {
  readonly id: string;
  readonly type: number;
  readonly data: Record<string, unknown>;
  readonly key: string | null;
  readonly reprompt: number;
  readonly archivedDate: Date | null;
}

/** Inserts any number of items owned by a user or an organization in one statement (imports). */
export async function insertCipherRows(
  sql: Sql,
  owner: { readonly userId: string } | { readonly organizationId: string },
  ciphers: readonly CipherInsert[],
  now: Date,
): Promise<void> {
  if (ciphers.length === 0) return;
  const [column, ownerId] = 'userId' in owner ? ['user_id', owner.userId] : ['organization_id', owner.organizationId];
  await sql.execute(
    `INSERT INTO cipher (id, ${column}, type, data, key, reprompt, creation_date, revision_date, archived_date)
     SELECT id, $2, type, data, key, reprompt, $1, $1, archived FROM jsonb_to_recordset($3::jsonb)
       AS x(id uuid, type smallint, data jsonb, key text, reprompt smallint, archived timestamptz)`,
    [
      now,
      ownerId,
      JSON.stringify(
        ciphers.map((c) => ({
          id: c.id,
          type: c.type,
          data: c.data,
          key: c.key,
          reprompt: c.reprompt,
          archived: c.archivedDate,
        })),
      ),
    ],
  );
}
