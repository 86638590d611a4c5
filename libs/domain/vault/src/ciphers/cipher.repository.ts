import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

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

/**
 * Writes to the personal vault and the per-user item state. Every statement is bounded by `user_id`;
 * reads and writes of items a user reaches through organizations live in cipher-access.repository.
 */
@Injectable()
export class CipherRepository {
  constructor(private readonly db: Database) {}

  async insertForUser(userId: string, cipher: NewCipher, now = new Date()): Promise<void> {
    await this.db.execute(
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
    await this.setUserState(userId, [cipher.id], cipher.folderId, cipher.favorite);
  }

  /** Folder and favourite are the caller's own view of an item. */
  async setUserState(
    userId: string,
    cipherIds: string[],
    folderId: string | null,
    favorite: boolean | null,
  ): Promise<void> {
    if (cipherIds.length === 0) return;
    await this.db.execute(
      `INSERT INTO cipher_user_state (user_id, cipher_id, folder_id, favorite)
       SELECT $1, unnest($2::uuid[]), $3, COALESCE($4, false)
       ON CONFLICT (user_id, cipher_id) DO UPDATE SET folder_id = EXCLUDED.folder_id,
         favorite = COALESCE($4, cipher_user_state.favorite)`,
      [userId, cipherIds, folderId, favorite],
    );
  }

  /** Files the items into the folder (null: none); answers the ids whose folder really changed. */
  async moveToFolder(userId: string, cipherIds: string[], folderId: string | null): Promise<string[]> {
    if (cipherIds.length === 0) return [];
    const rows = await this.db.rows<{ cipher_id: string }>(
      `INSERT INTO cipher_user_state (user_id, cipher_id, folder_id, favorite)
       SELECT $1, v.id, $3, false FROM unnest($2::uuid[]) AS v(id)
       LEFT JOIN cipher_user_state s ON s.user_id = $1 AND s.cipher_id = v.id
       WHERE s.folder_id IS DISTINCT FROM $3::uuid
       ON CONFLICT (user_id, cipher_id) DO UPDATE SET folder_id = EXCLUDED.folder_id
       RETURNING cipher_id`,
      [userId, cipherIds, folderId],
    );
    return rows.map((r) => r.cipher_id);
  }

  async deleteAllForUser(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM cipher WHERE user_id = $1', [userId]);
  }
}
