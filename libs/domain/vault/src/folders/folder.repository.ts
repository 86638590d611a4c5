import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

export interface Folder {
  readonly id: string;
  readonly name: string;
  readonly revisionDate: Date;
}

interface FolderRow {
  id: string;
  name: string;
  revision_date: Date;
}

const toFolder = (r: FolderRow): Folder => ({ id: r.id, name: r.name, revisionDate: new Date(r.revision_date) });

/** Every method takes the owner: a folder id alone never reaches a row. */
@Injectable()
export class FolderRepository {
  constructor(private readonly db: Database) {}

  async listForUser(userId: string): Promise<Folder[]> {
    return (
      await this.db.rows<FolderRow>(
        'SELECT id, name, revision_date FROM folder WHERE user_id = $1 ORDER BY creation_date',
        [userId],
      )
    ).map(toFolder);
  }

  async findForUser(id: string, userId: string): Promise<Folder | null> {
    const rows = await this.db.rows<FolderRow>(
      'SELECT id, name, revision_date FROM folder WHERE id = $1 AND user_id = $2',
      [id, userId],
    );
    return rows[0] ? toFolder(rows[0]) : null;
  }

  async create(userId: string, name: string, id: string = randomUUID()): Promise<Folder> {
    const now = new Date();
    await this.db.execute(
      'INSERT INTO folder (id, user_id, name, creation_date, revision_date) VALUES ($1, $2, $3, $4, $4)',
      [id, userId, name, now],
    );
    return { id, name, revisionDate: now };
  }

  /** Many folders in one statement (imports); ids in the order of `names`, creation order kept. */
  async createMany(userId: string, names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const ids = names.map(() => randomUUID());
    await this.db.execute(
      `INSERT INTO folder (id, user_id, name, creation_date, revision_date)
       SELECT x.id, $1, x.name, $2::timestamptz + x.ord * interval '1 microsecond', $2
       FROM jsonb_to_recordset($3::jsonb) AS x(id uuid, name text, ord int)`,
      [userId, new Date(), JSON.stringify(names.map((name, ord) => ({ id: ids[ord], name, ord })))],
    );
    return ids;
  }

  async renameForUser(id: string, userId: string, name: string): Promise<Folder | null> {
    const rows = await this.db.rows<FolderRow>(
      'UPDATE folder SET name = $3, revision_date = $4 WHERE id = $1 AND user_id = $2 RETURNING id, name, revision_date',
      [id, userId, name, new Date()],
    );
    return rows[0] ? toFolder(rows[0]) : null;
  }

  /** Items in the folder stay, unfiled (the foreign key sets their folder to null). */
  async deleteForUser(id: string, userId: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM folder WHERE id = $1 AND user_id = $2', [id, userId])) === 1;
  }

  async deleteAllForUser(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM folder WHERE user_id = $1', [userId]);
  }
}
