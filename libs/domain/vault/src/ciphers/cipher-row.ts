import {
  attachmentsFromColumn,
  type AttachmentColumn,
  type AttachmentView,
  type StoredAttachment,
} from '../attachments/attachment';
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
  /** Present when the query selected ATTACHMENTS_COLUMN_SQL. */
  attachments?: AttachmentColumn[] | null;
}

/**
 * The item of a row; its attachments get their download links from `withLinks` (without it, the
 * files are listed with no link).
 */
export function cipherFromRow(
  r: CipherRow,
  withLinks: (a: StoredAttachment) => AttachmentView = (a) => ({ ...a, url: null }),
): Cipher {
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
    attachments: attachmentsFromColumn(r.id, r.attachments).map(withLinks),
  };
}
