import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { collectionReadersSql } from '@keyhaven/domain-admin-console';

/** Whose clients hear about a change to one item, and what the push tells them. */
export interface CipherAudience {
  readonly id: string;
  /** The owner of a personal item; null for an organization item. */
  readonly userId: string | null;
  readonly organizationId: string | null;
  /** All the item's collections, not only those of one reader: each client checks its own. */
  readonly collectionIds: string[];
  readonly revisionDate: Date;
  /**
   * Who can see the item: its owner, or the confirmed members who reach one of its collections plus the
   * organization's owners and admins (none while the organization is disabled, as the sync serves none).
   */
  readonly userIds: string[];
}

interface AudienceRow {
  id: string;
  user_id: string | null;
  organization_id: string | null;
  revision_date: Date;
  collection_ids: string[];
  user_ids: string[];
}

/**
 * One statement for any number of items and members: the same visibility rules as the vault's access
 * query (`ACCESSIBLE_SQL`), read from the items' side.
 */
const AUDIENCE_SQL = `
  WITH item AS (
    SELECT c.id, c.user_id, c.organization_id, c.revision_date,
      (c.organization_id IS NULL OR EXISTS (SELECT 1 FROM organization o WHERE o.id = c.organization_id AND o.enabled)) AS served
    FROM cipher c WHERE c.id = ANY($1::uuid[])
  ), links AS (
    SELECT cc.cipher_id, cc.collection_id FROM collection_cipher cc JOIN item i ON i.id = cc.cipher_id
  ), readers AS (
    SELECT l.cipher_id, r.user_id FROM links l JOIN (${collectionReadersSql('links')}) r ON r.collection_id = l.collection_id
    UNION
    SELECT i.id, ou.user_id FROM item i
      JOIN organization_user ou ON ou.organization_id = i.organization_id AND ou.status = 2 AND ou.type IN (0, 1)
    UNION
    SELECT i.id, i.user_id FROM item i WHERE i.user_id IS NOT NULL
  )
  SELECT i.id, i.user_id, i.organization_id, i.revision_date,
    coalesce((SELECT array_agg(l.collection_id ORDER BY l.collection_id) FROM links l WHERE l.cipher_id = i.id), '{}'::uuid[]) AS collection_ids,
    CASE WHEN i.served
      THEN coalesce((SELECT array_agg(r.user_id ORDER BY r.user_id) FROM readers r WHERE r.cipher_id = i.id AND r.user_id IS NOT NULL), '{}'::uuid[])
      ELSE '{}'::uuid[] END AS user_ids
  FROM item i`;

@Injectable()
export class CipherAudienceRepository {
  constructor(private readonly db: Database) {}

  /** The audience of each of `ids` that exists, in one query. */
  async of(ids: readonly string[]): Promise<CipherAudience[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.rows<AudienceRow>(AUDIENCE_SQL, [ids]);
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      organizationId: r.organization_id,
      collectionIds: r.collection_ids,
      revisionDate: new Date(r.revision_date),
      userIds: r.user_ids,
    }));
  }

  /** The confirmed members of an organization: whose clients sync after a change to many of its items. */
  async membersOf(organizationId: string): Promise<string[]> {
    const rows = await this.db.rows<{ user_id: string }>(
      'SELECT user_id FROM organization_user WHERE organization_id = $1 AND status = 2 AND user_id IS NOT NULL',
      [organizationId],
    );
    return rows.map((r) => r.user_id);
  }
}
