import { Injectable } from '@nestjs/common';
import { Database, type Sql } from '@keyhaven/db';
import type { Cipher } from './cipher';

interface CipherRow {
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

const toCipher = (r: CipherRow): Cipher => ({
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
});

const SELECT_PERSONAL = `
  SELECT c.*, s.folder_id, s.favorite
  FROM cipher c LEFT JOIN cipher_user_state s ON s.cipher_id = c.id AND s.user_id = $1
  WHERE c.user_id = $1`;

export interface NewCipher {
  readonly id: string;
  readonly type: number;
  readonly data: Record<string, unknown>;
  readonly key: string | null;
  readonly reprompt: number;
  readonly folderId: string | null;
  readonly favorite: boolean;
  readonly archivedDate: Date | null;
}

/** The personal vault. Every statement is bounded by `user_id`: someone else's id matches nothing. */
@Injectable()
export class CipherRepository {
  constructor(private readonly db: Database) {}

  async listForUser(userId: string, sql: Sql = this.db): Promise<Cipher[]> {
    return (await sql.rows<CipherRow>(SELECT_PERSONAL, [userId])).map(toCipher);
  }

  async findForUser(id: string, userId: string, sql: Sql = this.db): Promise<Cipher | null> {
    const rows = await sql.rows<CipherRow>(`${SELECT_PERSONAL} AND c.id = $2`, [userId, id]);
    return rows[0] ? toCipher(rows[0]) : null;
  }

  async findManyForUser(ids: string[], userId: string, sql: Sql = this.db): Promise<Cipher[]> {
    if (ids.length === 0) return [];
    return (await sql.rows<CipherRow>(`${SELECT_PERSONAL} AND c.id = ANY($2::uuid[])`, [userId, ids])).map(toCipher);
  }

  async insertForUser(userId: string, cipher: NewCipher, sql: Sql = this.db, now = new Date()): Promise<void> {
    await sql.execute(
      `INSERT INTO cipher (id, user_id, type, data, key, reprompt, creation_date, revision_date, archived_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)`,
      [
        cipher.id,
        userId,
        cipher.type,
        JSON.stringify(cipher.data),
        cipher.key,
        cipher.reprompt,
        now,
        cipher.archivedDate,
      ],
    );
    await this.setUserState(userId, [cipher.id], cipher.folderId, cipher.favorite, sql);
  }

  /** Inserts many items with two statements, whatever their number (imports). */
  async insertManyForUser(userId: string, ciphers: NewCipher[], sql: Sql, now = new Date()): Promise<void> {
    if (ciphers.length === 0) return;
    await sql.execute(
      `INSERT INTO cipher (id, user_id, type, data, key, reprompt, creation_date, revision_date, archived_date)
       SELECT id, $2, type, data, key, reprompt, $1, $1, archived FROM jsonb_to_recordset($3::jsonb)
         AS x(id uuid, type smallint, data jsonb, key text, reprompt smallint, archived timestamptz)`,
      [
        now,
        userId,
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
    await sql.execute(
      `INSERT INTO cipher_user_state (user_id, cipher_id, folder_id, favorite)
       SELECT $1, cipher_id, folder_id, favorite FROM jsonb_to_recordset($2::jsonb) AS x(cipher_id uuid, folder_id uuid, favorite boolean)`,
      [userId, JSON.stringify(ciphers.map((c) => ({ cipher_id: c.id, folder_id: c.folderId, favorite: c.favorite })))],
    );
  }

  async updateForUser(
    id: string,
    userId: string,
    change: {
      type: number;
      data: Record<string, unknown>;
      key: string | null;
      reprompt: number;
      archivedDate: Date | null;
    },
    sql: Sql = this.db,
  ): Promise<boolean> {
    const updated = await sql.execute(
      `UPDATE cipher SET type = $3, data = $4, key = $5, reprompt = $6, archived_date = $7, revision_date = $8
       WHERE id = $1 AND user_id = $2`,
      [
        id,
        userId,
        change.type,
        JSON.stringify(change.data),
        change.key,
        change.reprompt,
        change.archivedDate,
        new Date(),
      ],
    );
    return updated === 1;
  }

  /** Folder and favourite are the caller's own view of an item. */
  async setUserState(
    userId: string,
    cipherIds: string[],
    folderId: string | null,
    favorite: boolean | null,
    sql: Sql = this.db,
  ): Promise<void> {
    if (cipherIds.length === 0) return;
    await sql.execute(
      `INSERT INTO cipher_user_state (user_id, cipher_id, folder_id, favorite)
       SELECT $1, unnest($2::uuid[]), $3, COALESCE($4, false)
       ON CONFLICT (user_id, cipher_id) DO UPDATE SET folder_id = EXCLUDED.folder_id,
         favorite = COALESCE($4, cipher_user_state.favorite)`,
      [userId, cipherIds, folderId, favorite],
    );
  }

  async touchForUser(ids: string[], userId: string, sql: Sql = this.db): Promise<void> {
    await sql.execute('UPDATE cipher SET revision_date = $3 WHERE id = ANY($1::uuid[]) AND user_id = $2', [
      ids,
      userId,
      new Date(),
    ]);
  }

  /** Each bulk change returns the ids it really changed: ids of other owners match nothing. */
  async softDeleteForUser(ids: string[], userId: string, sql: Sql = this.db): Promise<string[]> {
    const rows = await sql.rows<{ id: string }>(
      `UPDATE cipher SET deleted_date = $3, revision_date = $3
       WHERE id = ANY($1::uuid[]) AND user_id = $2 AND deleted_date IS NULL RETURNING id`,
      [ids, userId, new Date()],
    );
    return rows.map((r) => r.id);
  }

  async restoreForUser(ids: string[], userId: string, sql: Sql = this.db): Promise<string[]> {
    const rows = await sql.rows<{ id: string }>(
      `UPDATE cipher SET deleted_date = NULL, revision_date = $3
       WHERE id = ANY($1::uuid[]) AND user_id = $2 AND deleted_date IS NOT NULL RETURNING id`,
      [ids, userId, new Date()],
    );
    return rows.map((r) => r.id);
  }

  async deleteForUser(ids: string[], userId: string, sql: Sql = this.db): Promise<string[]> {
    const rows = await sql.rows<{ id: string }>(
      'DELETE FROM cipher WHERE id = ANY($1::uuid[]) AND user_id = $2 RETURNING id',
      [ids, userId],
    );
    return rows.map((r) => r.id);
  }

  async deleteAllForUser(userId: string, sql: Sql = this.db): Promise<void> {
    await sql.execute('DELETE FROM cipher WHERE user_id = $1', [userId]);
  }
}
