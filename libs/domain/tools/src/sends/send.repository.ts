import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import type { Send, SendAuthType, SendFileData, SendText, SendType } from './send';

interface SendRow {
  id: string;
  user_id: string;
  type: number;
  auth_type: number;
  name: string;
  notes: string | null;
  key: string;
  data: Record<string, unknown>;
  file_id: string | null;
  file_size: string | number | null;
  file_uploaded: boolean;
  password_hash: string | null;
  emails: string | null;
  max_access_count: number | null;
  access_count: number;
  disabled: boolean;
  hide_email: boolean;
  creation_date: Date;
  revision_date: Date;
  expiration_date: Date | null;
  deletion_date: Date;
}

function toSend(r: SendRow): Send {
  const isFile = r.type === 1;
  return {
    id: r.id,
    userId: r.user_id,
    type: r.type as SendType,
    authType: r.auth_type as SendAuthType,
    name: r.name,
    notes: r.notes,
    key: r.key,
    text: isFile ? null : (r.data as unknown as SendText),
    file: isFile ? (r.data as unknown as SendFileData) : null,
    fileId: r.file_id,
    fileSize: r.file_size === null ? null : Number(r.file_size),
    fileUploaded: r.file_uploaded,
    passwordHash: r.password_hash,
    emails: r.emails,
    maxAccessCount: r.max_access_count,
    accessCount: r.access_count,
    disabled: r.disabled,
    hideEmail: r.hide_email,
    creationDate: new Date(r.creation_date),
    revisionDate: new Date(r.revision_date),
    expirationDate: r.expiration_date ? new Date(r.expiration_date) : null,
    deletionDate: new Date(r.deletion_date),
  };
}

const first = (rows: SendRow[]): Send | null => (rows[0] ? toSend(rows[0]) : null);

/** What create and edit write; the owner, id, counters and file state are set apart. */
export interface SendFields {
  readonly authType: SendAuthType;
  readonly name: string;
  readonly notes: string | null;
  readonly key: string;
  readonly data: SendText | SendFileData;
  readonly passwordHash: string | null;
  readonly emails: string | null;
  readonly maxAccessCount: number | null;
  readonly disabled: boolean;
  readonly hideEmail: boolean;
  readonly expirationDate: Date | null;
  readonly deletionDate: Date;
}

/** The rows a recipient may still open (see isAccessible); the same rule in SQL for the atomic counter. */
const ACCESSIBLE = `NOT disabled AND (expiration_date IS NULL OR expiration_date > $2) AND deletion_date > $2
  AND (max_access_count IS NULL OR access_count < max_access_count)`;

/** Owner-scoped except where a recipient reaches a Send by its access id (`ForAccess`). */
@Injectable()
export class SendRepository {
  constructor(private readonly db: Database) {}

  async listForUser(userId: string): Promise<Send[]> {
    return (await this.db.rows<SendRow>('SELECT * FROM send WHERE user_id = $1 ORDER BY creation_date', [userId])).map(
      toSend,
    );
  }

  async findForUser(id: string, userId: string): Promise<Send | null> {
    return first(await this.db.rows<SendRow>('SELECT * FROM send WHERE id = $1 AND user_id = $2', [id, userId]));
  }

  /** A recipient's lookup by the id behind the access id: no owner, so the caller checks accessibility. */
  async findForAccess(id: string): Promise<Send | null> {
    return first(await this.db.rows<SendRow>('SELECT * FROM send WHERE id = $1', [id]));
  }

  async create(
    id: string,
    userId: string,
    type: SendType,
    fields: SendFields,
    file: { id: string; size: number } | null,
  ): Promise<Send> {
    const now = new Date();
    const rows = await this.db.rows<SendRow>(
      `INSERT INTO send (id, user_id, type, auth_type, name, notes, key, data, file_id, file_size, password_hash, emails,
         max_access_count, disabled, hide_email, creation_date, revision_date, expiration_date, deletion_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17, $18) RETURNING *`,
      [
        id,
        userId,
        type,
        fields.authType,
        fields.name,
        fields.notes,
        fields.key,
        JSON.stringify(fields.data),
        file?.id ?? null,
        file?.size ?? null,
        fields.passwordHash,
        fields.emails,
        fields.maxAccessCount,
        fields.disabled,
        fields.hideEmail,
        now,
        fields.expirationDate,
        fields.deletionDate,
      ],
    );
    const created = first(rows);
    if (!created) throw new Error('send insert returned nothing');
    return created;
  }

  /** An edit: a file Send keeps its file id, size and upload state (file contents never change). */
  async updateForUser(id: string, userId: string, fields: SendFields): Promise<Send | null> {
    return first(
      await this.db.rows<SendRow>(
        `UPDATE send SET auth_type = $3, name = $4, notes = $5, key = $6, data = $7, password_hash = $8, emails = $9,
           max_access_count = $10, disabled = $11, hide_email = $12, expiration_date = $13, deletion_date = $14,
           revision_date = $15
         WHERE id = $1 AND user_id = $2 RETURNING *`,
        [
          id,
          userId,
          fields.authType,
          fields.name,
          fields.notes,
          fields.key,
          JSON.stringify(fields.data),
          fields.passwordHash,
          fields.emails,
          fields.maxAccessCount,
          fields.disabled,
          fields.hideEmail,
          fields.expirationDate,
          fields.deletionDate,
          new Date(),
        ],
      ),
    );
  }

  async deleteForUser(id: string, userId: string): Promise<Send | null> {
    return first(
      await this.db.rows<SendRow>('DELETE FROM send WHERE id = $1 AND user_id = $2 RETURNING *', [id, userId]),
    );
  }

  /** Marks the one upload a file Send takes; null when it is not this owner's pending file. */
  async markUploaded(id: string, userId: string, fileId: string): Promise<Send | null> {
    return first(
      await this.db.rows<SendRow>(
        `UPDATE send SET file_uploaded = true, revision_date = $4
         WHERE id = $1 AND user_id = $2 AND file_id = $3 AND NOT file_uploaded RETURNING *`,
        [id, userId, fileId, new Date()],
      ),
    );
  }

  /**
   * Counts one access if the Send is still accessible, in one statement, so two recipients racing
   * for the last access cannot both get it. Null when it was not accessible (any more).
   */
  async countAccess(id: string, now = new Date()): Promise<Send | null> {
    return first(
      await this.db.rows<SendRow>(
        `UPDATE send SET access_count = access_count + 1, revision_date = $2
         WHERE id = $1 AND ${ACCESSIBLE} AND (type <> 1 OR file_uploaded) RETURNING *`,
        [id, now],
      ),
    );
  }

  /** Sends whose deletion date has passed, oldest first, a batch at a time (the deletion job). */
  async pastDeletion(now: Date, limit: number): Promise<Send[]> {
    return (
      await this.db.rows<SendRow>('SELECT * FROM send WHERE deletion_date <= $1 ORDER BY deletion_date LIMIT $2', [
        now,
        limit,
      ])
    ).map(toSend);
  }

  async deleteByIds(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.execute('DELETE FROM send WHERE id = ANY($1::uuid[])', [ids]);
  }

  /** Blob keys of deleted file Sends still to remove (queued by the delete trigger), oldest first. */
  async queuedBlobKeys(limit: number): Promise<string[]> {
    return (
      await this.db.rows<{ blob_key: string }>(
        'SELECT blob_key FROM send_blob_gc ORDER BY queued_at, blob_key LIMIT $1',
        [limit],
      )
    ).map((r) => r.blob_key);
  }

  /** The blobs are gone: their keys leave the queue. */
  async forgetBlobKeys(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.execute('DELETE FROM send_blob_gc WHERE blob_key = ANY($1::text[])', [keys]);
  }

  /**
   * The per-user storage lock, held to the end of the transaction. The key is the one the vault's
   * attachments take (AttachmentRepository.lockStorage), so both kinds of file queue on one lock.
   */
  async lockUserStorage(userId: string): Promise<void> {
    await this.db.rows("SELECT pg_advisory_xact_lock(hashtextextended('attachment-storage:' || $1, 0))", [userId]);
  }

  /** Bytes of the user's file Sends (declared sizes), for storage accounting. */
  async fileBytesOfUser(userId: string): Promise<number> {
    const rows = await this.db.rows<{ total: string | null }>(
      'SELECT sum(file_size) AS total FROM send WHERE user_id = $1 AND type = 1',
      [userId],
    );
    return Number(rows[0]?.total ?? 0);
  }
}
