import { attachmentJson, type AttachmentView } from '../attachments/attachment';

/** A stored item: server metadata plus the client's encrypted data, kept as sent. */
export interface Cipher {
  readonly id: string;
  readonly userId: string | null;
  readonly organizationId: string | null;
  readonly type: number;
  readonly data: Record<string, unknown>;
  readonly key: string | null;
  readonly reprompt: number;
  readonly creationDate: Date;
  readonly revisionDate: Date;
  readonly deletedDate: Date | null;
  readonly archivedDate: Date | null;
  /** Per-user view: the caller's folder and favourite flag. */
  readonly folderId: string | null;
  readonly favorite: boolean;
  /** Its files, with download links (absent where an item was built without them: none). */
  readonly attachments?: readonly AttachmentView[];
}

/** What the caller may do with an item; personal items allow everything. */
export interface CipherAccess {
  readonly edit: boolean;
  readonly viewPassword: boolean;
  readonly manage: boolean;
  readonly collectionIds: string[];
}

export const OWNER_ACCESS: CipherAccess = { edit: true, viewPassword: true, manage: true, collectionIds: [] };

/** The `cipherDetails` JSON the clients cache; type objects a client did not send are explicit nulls. */
export function cipherJson(cipher: Cipher, access: CipherAccess = OWNER_ACCESS): Record<string, unknown> {
  return {
    login: null,
    card: null,
    identity: null,
    secureNote: null,
    sshKey: null,
    notes: null,
    fields: null,
    passwordHistory: null,
    ...cipher.data,
    id: cipher.id,
    organizationId: cipher.organizationId,
    folderId: cipher.folderId,
    type: cipher.type,
    favorite: cipher.favorite,
    reprompt: cipher.reprompt,
    key: cipher.key,
    attachments: cipher.attachments?.length ? cipher.attachments.map(attachmentJson) : null,
    organizationUseTotp: cipher.organizationId !== null,
    creationDate: cipher.creationDate.toISOString(),
    revisionDate: cipher.revisionDate.toISOString(),
    deletedDate: cipher.deletedDate ? cipher.deletedDate.toISOString() : null,
    archivedDate: cipher.archivedDate ? cipher.archivedDate.toISOString() : null,
    edit: access.edit,
    viewPassword: access.viewPassword,
    // Items may be deleted by whoever may edit them (Bitwarden's default, limitItemDeletion off).
    permissions: { delete: access.edit, restore: access.edit },
    collectionIds: access.collectionIds,
    object: 'cipherDetails',
  };
}

/** The JSON of an item as one user sees it. */
export function accessibleCipherJson(found: { cipher: Cipher; access: CipherAccess }): Record<string, unknown> {
  return cipherJson(found.cipher, found.access);
}
