import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { USER_COLLECTION_ACCESS_SQL } from '@keyhaven/domain-admin-console';
import { ATTACHMENTS_COLUMN_SQL } from '../attachments/attachment';
import { AttachmentUrls } from '../attachments/attachment-urls';
import type { Cipher, CipherAccess } from './cipher';
import { cipherFromRow, type CipherRow } from './cipher-row';

interface AccessibleRow extends CipherRow {
  edit: boolean;
  view_password: boolean;
  manage: boolean;
  collection_ids: string[];
}

export interface AccessibleCipher {
  readonly cipher: Cipher;
  readonly access: CipherAccess;
}

/**
 * Every item a user may see, with what they may do to it, in one set-based query: their own items
 * (full rights), items in collections they reach directly or through groups (rights per collection,
 * the most permissive path wins), and every item of organizations they administer.
 * Unconfirmed and revoked memberships reach nothing (the access CTE takes status 2 only), and nobody
 * reaches the items of a disabled organization (billing disables one whose payments stopped: its items
 * are kept, not served, as Bitwarden's own cipher queries skip disabled organizations).
 */
const ACCESSIBLE_SQL = `
  WITH access AS (${USER_COLLECTION_ACCESS_SQL}),
  admin_orgs AS (
    SELECT organization_id FROM organization_user WHERE user_id = $1 AND status = 2 AND type IN (0, 1)
  ),
  via_collections AS (
    SELECT cc.cipher_id, bool_or(NOT a.read_only) AS edit, bool_or(NOT a.hide_passwords) AS view_password,
           bool_or(a.manage) AS manage, array_agg(cc.collection_id ORDER BY cc.collection_id) AS collection_ids
    FROM collection_cipher cc JOIN access a ON a.collection_id = cc.collection_id
    GROUP BY cc.cipher_id
  )
  SELECT c.*, s.folder_id, s.favorite, ${ATTACHMENTS_COLUMN_SQL},
    (coalesce(c.user_id = $1, false) OR ao.organization_id IS NOT NULL OR coalesce(vc.edit, false)) AS edit,
    (coalesce(c.user_id = $1, false) OR ao.organization_id IS NOT NULL OR coalesce(vc.view_password, false)) AS view_password,
    (coalesce(c.user_id = $1, false) OR ao.organization_id IS NOT NULL OR coalesce(vc.manage, false)) AS manage,
    coalesce(vc.collection_ids, '{}'::uuid[]) AS collection_ids
  FROM cipher c
  LEFT JOIN via_collections vc ON vc.cipher_id = c.id
  LEFT JOIN admin_orgs ao ON ao.organization_id = c.organization_id
  LEFT JOIN cipher_user_state s ON s.cipher_id = c.id AND s.user_id = $1
  WHERE (c.user_id = $1 OR vc.cipher_id IS NOT NULL OR ao.organization_id IS NOT NULL)
    AND (c.organization_id IS NULL OR EXISTS (SELECT 1 FROM organization o WHERE o.id = c.organization_id AND o.enabled))`;

function toAccessible(r: AccessibleRow, urls: AttachmentUrls): AccessibleCipher {
  return {
    cipher: cipherFromRow(r, (a) => urls.view(a)),
    access: { edit: r.edit, viewPassword: r.view_password, manage: r.manage, collectionIds: r.collection_ids },
  };
}

/** Every read answers items with their attachments, each with a freshly signed download link. */
@Injectable()
export class CipherAccessRepository {
  constructor(
    private readonly db: Database,
    private readonly urls: AttachmentUrls,
  ) {}

  private readonly toAccessible = (r: AccessibleRow): AccessibleCipher => toAccessible(r, this.urls);

  async listForUser(userId: string): Promise<AccessibleCipher[]> {
    return (await this.db.rows<AccessibleRow>(ACCESSIBLE_SQL, [userId])).map(this.toAccessible);
  }

  async findForUser(id: string, userId: string): Promise<AccessibleCipher | null> {
    const rows = await this.db.rows<AccessibleRow>(`${ACCESSIBLE_SQL} AND c.id = $2`, [userId, id]);
    return rows[0] ? this.toAccessible(rows[0]) : null;
  }

  /**
   * The same read for a change about to be made in the caller's transaction: the item's row stays
   * locked until it commits, so the access and revision date checked are the ones the write replaces.
   */
  async findForUpdate(id: string, userId: string): Promise<AccessibleCipher | null> {
    const rows = await this.db.rows<AccessibleRow>(`${ACCESSIBLE_SQL} AND c.id = $2 FOR UPDATE OF c`, [userId, id]);
    return rows[0] ? this.toAccessible(rows[0]) : null;
  }

  async findManyForUser(ids: string[], userId: string): Promise<AccessibleCipher[]> {
    if (ids.length === 0) return [];
    return (await this.db.rows<AccessibleRow>(`${ACCESSIBLE_SQL} AND c.id = ANY($2::uuid[])`, [userId, ids])).map(
      this.toAccessible,
    );
  }

  /** The owning organization of each org item among `ids` (read before a change that may delete them). */
  async organizationsOf(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.rows<{ id: string; organization_id: string }>(
      'SELECT id, organization_id FROM cipher WHERE id = ANY($1::uuid[]) AND organization_id IS NOT NULL',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.organization_id]));
  }

  /** The admin view of an organization's items, with all their collections. */
  async listForOrg(organizationId: string): Promise<AccessibleCipher[]> {
    const rows = await this.db.rows<AccessibleRow>(
      `SELECT c.*, NULL::uuid AS folder_id, false AS favorite, ${ATTACHMENTS_COLUMN_SQL}, true AS edit, true AS view_password, true AS manage,
         coalesce((SELECT array_agg(cc.collection_id ORDER BY cc.collection_id) FROM collection_cipher cc WHERE cc.cipher_id = c.id), '{}'::uuid[]) AS collection_ids
       FROM cipher c WHERE c.organization_id = $1 ORDER BY c.creation_date`,
      [organizationId],
    );
    return rows.map(this.toAccessible);
  }
}

/** Ids among $2 that user $1 may edit; every write below is bounded by it. */
const EDITABLE_IDS = `SELECT x.id FROM (${ACCESSIBLE_SQL} AND c.id = ANY($2::uuid[])) x WHERE x.edit`;

/** Collections of org $3 among $4 that user $1 may put items into. */
const WRITABLE_COLLECTIONS = `
  SELECT c.id FROM collection c JOIN (${USER_COLLECTION_ACCESS_SQL}) a ON a.collection_id = c.id
  WHERE c.organization_id = $3 AND c.id = ANY($4::uuid[]) AND NOT a.read_only`;

export interface CipherChange {
  readonly type: number;
  readonly data: Record<string, unknown>;
  readonly key: string | null;
  readonly reprompt: number;
  readonly archivedDate: Date | null;
}

/** Writes to items the user reaches through their own vault or an organization, scoped in SQL. */
@Injectable()
export class CipherWriteRepository {
  constructor(private readonly db: Database) {}

  /**
   * Replaces an item's data after the caller checked, with findForUpdate in the same transaction,
   * that the user may edit it. Returns the new revision date.
   */
  async replaceData(id: string, change: CipherChange): Promise<Date> {
    const rows = await this.db.rows<{ revision_date: Date }>(
      `UPDATE cipher SET type = $2, data = $3, key = $4, reprompt = $5, archived_date = $6, revision_date = $7
       WHERE id = $1 RETURNING revision_date`,
      [id, change.type, JSON.stringify(change.data), change.key, change.reprompt, change.archivedDate, new Date()],
    );
    const row = rows[0];
    if (!row) throw new Error('cipher vanished inside its own transaction');
    return new Date(row.revision_date);
  }

  async softDelete(ids: string[], userId: string): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(
      `UPDATE cipher SET deleted_date = $3, revision_date = $3 WHERE id IN (${EDITABLE_IDS}) AND deleted_date IS NULL RETURNING id`,
      [userId, ids, new Date()],
    );
    return rows.map((r) => r.id);
  }

  async restore(ids: string[], userId: string): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(
      `UPDATE cipher SET deleted_date = NULL, revision_date = $3 WHERE id IN (${EDITABLE_IDS}) AND deleted_date IS NOT NULL RETURNING id`,
      [userId, ids, new Date()],
    );
    return rows.map((r) => r.id);
  }

  async delete(ids: string[], userId: string): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(`DELETE FROM cipher WHERE id IN (${EDITABLE_IDS}) RETURNING id`, [
      userId,
      ids,
    ]);
    return rows.map((r) => r.id);
  }

  /** Creates an organization item in the given collections (only those the user may write to). */
  async insertForOrg(
    userId: string,
    organizationId: string,
    id: string,
    change: CipherChange,
    collectionIds: string[],
  ): Promise<number> {
    const now = new Date();
    await this.db.execute(
      `INSERT INTO cipher (id, organization_id, type, data, key, reprompt, creation_date, revision_date, archived_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)`,
      [
        id,
        organizationId,
        change.type,
        JSON.stringify(change.data),
        change.key,
        change.reprompt,
        now,
        change.archivedDate,
      ],
    );
    return this.addCollections(userId, organizationId, [id], collectionIds);
  }

  /**
   * Moves personal items into an organization, re-encrypted by the client, in one statement; only
   * their owner can. Answers how many moved (fewer than given: some item was not the user's).
   */
  async share(
    userId: string,
    organizationId: string,
    changes: readonly (CipherChange & { id: string })[],
  ): Promise<number> {
    if (changes.length === 0) return 0;
    return this.db.execute(
      `UPDATE cipher c SET user_id = NULL, organization_id = $2, type = x.type, data = x.data, key = x.key,
         reprompt = x.reprompt, revision_date = $3
       FROM jsonb_to_recordset($4::jsonb) AS x(id uuid, type smallint, data jsonb, key text, reprompt smallint)
       WHERE c.id = x.id AND c.user_id = $1 AND c.organization_id IS NULL`,
      [
        userId,
        organizationId,
        new Date(),
        JSON.stringify(
          changes.map((c) => ({ id: c.id, type: c.type, data: c.data, key: c.key, reprompt: c.reprompt })),
        ),
      ],
    );
  }

  /** Puts the items into those of the collections the user may write to; answers the links made. */
  async addCollections(
    userId: string,
    organizationId: string,
    cipherIds: readonly string[],
    collectionIds: string[],
  ): Promise<number> {
    if (collectionIds.length === 0 || cipherIds.length === 0) return 0;
    return this.db.execute(
      `INSERT INTO collection_cipher (collection_id, cipher_id)
       SELECT w.id, i.id FROM (${WRITABLE_COLLECTIONS}) w CROSS JOIN unnest($2::uuid[]) AS i(id) ON CONFLICT DO NOTHING`,
      [userId, cipherIds, organizationId, collectionIds],
    );
  }

  /** Replaces an item's collections: the user must manage the item; collections they cannot write to are kept as they were. */
  async replaceCollections(
    userId: string,
    organizationId: string,
    cipherId: string,
    collectionIds: string[],
  ): Promise<void> {
    await this.db.execute(
      `DELETE FROM collection_cipher WHERE cipher_id = $2
         AND collection_id IN (SELECT c.id FROM collection c JOIN (${USER_COLLECTION_ACCESS_SQL}) a ON a.collection_id = c.id
                               WHERE c.organization_id = $3 AND NOT a.read_only)`,
      [userId, cipherId, organizationId],
    );
    await this.addCollections(userId, organizationId, [cipherId], collectionIds);
    await this.db.execute('UPDATE cipher SET revision_date = $2 WHERE id = $1', [cipherId, new Date()]);
  }

  /** Org import: items straight into the org, with collection links by index, in one statement each. */
  async purgeOrg(organizationId: string): Promise<void> {
    await this.db.execute('DELETE FROM cipher WHERE organization_id = $1', [organizationId]);
  }
}
