import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import type { TakeoverMemberships } from '@keyhaven/domain-auth';

/**
 * After an emergency takeover the grantor leaves every organization they do not own (as Bitwarden
 * does): whoever took the account over must not inherit the grantor's access to others' data.
 */
@Injectable()
export class TakeoverMembershipsService implements TakeoverMemberships {
  constructor(private readonly db: Database) {}

  async removeFromOrganizationsNotOwned(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM organization_user WHERE user_id = $1 AND type <> 0', [userId]);
  }
}
