import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import type { StoredAttachment } from './attachment';

interface AttachmentRow {
  id: string;
  cipher_id: string;
  file_name: string;
  key: string | null;
  size: string | number;
  validated: boolean;
}

function fromRow(r: AttachmentRow): StoredAttachment {
  return {
    id: r.id,
    cipherId: r.cipher_id,
    fileName: r.file_name,
    key: r.key,
    size: Number(r.size),
    validated: r.validated,
  };
}

export interface AttachmentKeyChange {
  readonly cipherId: string;
  readonly id: string;
  readonly fileName: string;
  readonly key: string | null;
}

/**
 * Attachment rows. Every method names the item (`cipher_id`) along with the attachment: callers check
 * the user's access to the item first (in the same transaction), so an attachment is reached only
 * through an item the caller may see.
 */
@Injectable()
export class AttachmentRepository {
  constructor(private readonly db: Database) {}

  async insert(a: Omit<StoredAttachment, 'validated'>, now: Date): Promise<void> {
    await this.db.execute(
      `INSERT INTO attachment (id, cipher_id, file_name, key, size, validated, creation_date)
       VALUES ($1, $2, $3, $4, $5, false, $6)`,
      [a.id, a.cipherId, a.fileName, a.key, a.size, now],
    );
  }

  async find(cipherId: string, id: string): Promise<StoredAttachment | null> {
    const rows = await this.db.rows<AttachmentRow>('SELECT * FROM attachment WHERE cipher_id = $1 AND id = $2', [
      cipherId,
      id,
    ]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** Takes the one upload a pending attachment gets; false when it was taken (or the file is there). */
  async claimUpload(cipherId: string, id: string, now: Date): Promise<boolean> {
    const claimed = await this.db.execute(
      `UPDATE attachment SET upload_started_at = $3
       WHERE cipher_id = $1 AND id = $2 AND NOT validated AND upload_started_at IS NULL`,
      [cipherId, id, now],
    );
    return claimed === 1;
  }

  /** The file arrived with `size` bytes; false when the attachment was deleted meanwhile. */
  async markUploaded(cipherId: string, id: string, size: number): Promise<boolean> {
    const updated = await this.db.execute(
      'UPDATE attachment SET validated = true, size = $3 WHERE cipher_id = $1 AND id = $2 AND NOT validated',
      [cipherId, id, size],
    );
    return updated === 1;
  }

  /** The blob's key is queued for removal by the table's trigger, in this transaction. */
  async delete(cipherId: string, id: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM attachment WHERE cipher_id = $1 AND id = $2', [cipherId, id])) === 1;
  }

  /**
   * Serialises storage checks of one owner (a user's personal vault or an organization) until the
   * transaction ends, so two uploads at once cannot both take the last free bytes.
   */
  async lockStorage(ownerId: string): Promise<void> {
    await this.db.rows("SELECT pg_advisory_xact_lock(hashtextextended('attachment-storage:' || $1, 0))", [ownerId]);
  }

  /** Bytes the attachments of a user's personal items take (pending ones at their declared size). */
  async usedByUser(userId: string): Promise<number> {
    const rows = await this.db.rows<{ used: string }>(
      `SELECT coalesce(sum(a.size), 0)::text AS used FROM attachment a JOIN cipher c ON c.id = a.cipher_id
       WHERE c.user_id = $1`,
      [userId],
    );
    return Number(rows[0]?.used ?? 0);
  }

  /** Bytes of the user's file Sends (tools' table, read only): they share the user's storage. */
  async fileSendBytesOfUser(userId: string): Promise<number> {
    const rows = await this.db.rows<{ used: string }>(
      'SELECT coalesce(sum(file_size), 0)::text AS used FROM send WHERE user_id = $1 AND type = 1',
      [userId],
    );
    return Number(rows[0]?.used ?? 0);
  }

  async usedByOrganization(organizationId: string): Promise<number> {
    const rows = await this.db.rows<{ used: string }>(
      `SELECT coalesce(sum(a.size), 0)::text AS used FROM attachment a JOIN cipher c ON c.id = a.cipher_id
       WHERE c.organization_id = $1`,
      [organizationId],
    );
    return Number(rows[0]?.used ?? 0);
  }

  /** Moves an item's revision date (an attachment came or went); answers the new one. */
  async touchCipher(cipherId: string, now: Date): Promise<Date> {
    await this.db.execute('UPDATE cipher SET revision_date = $2 WHERE id = $1', [cipherId, now]);
    return now;
  }

  /**
   * New names and keys from an item's update or share (`attachments2`), in one statement: only
   * attachments of the given items change, so an id of another item's attachment does nothing.
   */
  async applyKeys(changes: readonly AttachmentKeyChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.db.execute(
      `UPDATE attachment a SET file_name = x.file_name, key = x.key
       FROM jsonb_to_recordset($1::jsonb) AS x(cipher_id uuid, id text, file_name text, key text)
       WHERE a.cipher_id = x.cipher_id AND a.id = x.id`,
      [JSON.stringify(changes.map((c) => ({ cipher_id: c.cipherId, id: c.id, file_name: c.fileName, key: c.key })))],
    );
  }

  /** Removes attachments whose file never came (claimed or not) since `before`, at most `limit`. */
  async deleteAbandoned(before: Date, limit: number): Promise<StoredAttachment[]> {
    const rows = await this.db.rows<AttachmentRow>(
      `DELETE FROM attachment WHERE id IN (
         SELECT id FROM attachment WHERE NOT validated AND coalesce(upload_started_at, creation_date) < $1
         ORDER BY creation_date LIMIT $2)
       RETURNING *`,
      [before, limit],
    );
    return rows.map(fromRow);
  }

  /** Blob keys of deleted attachments still to remove, oldest first. */
  async queuedBlobs(limit: number): Promise<string[]> {
    const rows = await this.db.rows<{ blob_key: string }>(
      'SELECT blob_key FROM attachment_blob_gc ORDER BY queued_at, blob_key LIMIT $1',
      [limit],
    );
    return rows.map((r) => r.blob_key);
  }

  async unqueueBlobs(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.execute('DELETE FROM attachment_blob_gc WHERE blob_key = ANY($1::text[])', [keys]);
  }
}
