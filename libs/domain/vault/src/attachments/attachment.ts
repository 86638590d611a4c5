import { randomBytes } from 'node:crypto';

/** An attachment row: the client's encrypted name and key, the encrypted file's size. */
export interface StoredAttachment {
  readonly id: string;
  readonly cipherId: string;
  readonly fileName: string;
  readonly key: string | null;
  readonly size: number;
  /** False until the file has arrived (the row is made by `attachment/v2`, the bytes come after). */
  readonly validated: boolean;
}

/** An attachment as the clients see it: with a short-lived download link, when its file is there. */
export interface AttachmentView extends StoredAttachment {
  readonly url: string | null;
}

/** Where the file lives in the BlobStore; an item keeps its id when shared, so its files stay put. */
export function attachmentBlobKey(cipherId: string, id: string): string {
  return `attachments/${cipherId}/${id}`;
}

/** 32 lowercase hex characters: URL-path- and blob-key-safe, like Bitwarden's 32-character ids. */
export function newAttachmentId(): string {
  return randomBytes(16).toString('hex');
}

export const ATTACHMENT_ID = /^[a-z0-9]{1,64}$/;

const UNITS = ['KB', 'MB', 'GB', 'TB'] as const;

/** The display size the clients show next to a file ("12 Bytes", "1.5 KB"). */
export function sizeName(bytes: number): string {
  if (bytes < 1024) return `${bytes} Bytes`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toFixed(2))} ${UNITS[unit] ?? 'TB'}`;
}

/** `attachments[]` of a cipher and the answer of `GET ciphers/{id}/attachment/{attachmentId}`; size is a string. */
export function attachmentJson(a: AttachmentView): Record<string, unknown> {
  return {
    id: a.id,
    url: a.url,
    fileName: a.fileName,
    key: a.key,
    size: String(a.size),
    sizeName: sizeName(a.size),
    object: 'attachment',
  };
}

/** The attachments column the cipher queries add (a JSON array, or null for none), as read back. */
export interface AttachmentColumn {
  id: string;
  file_name: string;
  key: string | null;
  size: number | string;
  validated: boolean;
}

/** The SQL of that column for the cipher aliased `c`: one index lookup per item, in the same query. */
export const ATTACHMENTS_COLUMN_SQL = `(SELECT json_agg(json_build_object('id', a.id, 'file_name', a.file_name, 'key', a.key,
    'size', a.size, 'validated', a.validated) ORDER BY a.creation_date, a.id)
  FROM attachment a WHERE a.cipher_id = c.id) AS attachments`;

export function attachmentsFromColumn(
  cipherId: string,
  column: AttachmentColumn[] | null | undefined,
): StoredAttachment[] {
  return (column ?? []).map((a) => ({
    id: a.id,
    cipherId,
    fileName: a.file_name,
    key: a.key,
    size: Number(a.size),
    validated: a.validated,
  }));
}
