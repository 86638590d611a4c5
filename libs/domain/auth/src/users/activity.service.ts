import { Injectable, Logger } from '@nestjs/common';
import { Database } from '@keyhaven/db';

/**
 * How stale `last_activity_date` may get: a user who syncs every few seconds writes at most once per
 * this interval, so activity tracking costs one no-op UPDATE (an indexed primary-key probe) per
 * request instead of a row rewrite.
 */
export const ACTIVITY_RESOLUTION_MINUTES = 5;

/**
 * `app_user.last_activity_date`: when the user last obtained a token (password, API-key or any other
 * grant, or a refresh) or synced. Dormant-account reports read it, so it must be real but need not be
 * exact. Lives here because `app_user` is auth's table; the vault calls it on sync.
 */
@Injectable()
export class ActivityService {
  private readonly logger = new Logger(ActivityService.name);

  constructor(private readonly db: Database) {}

  /**
   * Marks the user active now unless they were marked less than the resolution ago. Never fails the
   * caller: a login or sync is worth more than an activity stamp.
   */
  async touch(userId: string): Promise<void> {
    try {
      await this.db.execute(
        `UPDATE app_user SET last_activity_date = $2
          WHERE id = $1
            AND (last_activity_date IS NULL
                 OR last_activity_date < $2::timestamptz - make_interval(mins => $3::int))`,
        [userId, new Date(), ACTIVITY_RESOLUTION_MINUTES],
      );
    } catch (error) {
      this.logger.warn(`activity stamp not written: ${(error as Error).message}`);
    }
  }
}
