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
