import { z } from 'zod';
import { CronTime } from 'cron';

// Scheduled backups: when, where, how many are kept, and how they are encrypted.

/** A cron expression (5 fields, or 6 with seconds first), evaluated in UTC. */
const cronExpression = z.string().refine(
  (v) => {
    try {
      new CronTime(v, 'UTC');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a cron expression such as "0 3 * * *" (evaluated in UTC)' },
);

/** How many backups to keep: a count (`7`) or an age in days (`30d`). */
const backupRetention = z
  .string()
  .default('7')
  .refine((v) => /^[1-9]\d{0,5}d?$/.test(v), { message: 'must be a count (7) or a number of days (30d)' })
  .transform((v) => (v.endsWith('d') ? { days: Number(v.slice(0, -1)) } : { count: Number(v) }));

export const backupShape = {
  /** Scheduled backups (`keyhaven backup` run by exactly one instance): a cron expression in UTC; off when unset. */
  BACKUP_SCHEDULE: cronExpression.optional(),
  /** Where scheduled backups are written (a volume every instance that may run the job can reach); required with BACKUP_SCHEDULE. */
  BACKUP_DIR: z.string().optional(),
  /** Scheduled backups kept after each run: the newest N (`7`) or those younger than N days (`30d`). */
  BACKUP_RETENTION: backupRetention,
  /** Passphrase scheduled backups are encrypted with (scrypt); use BACKUP_PASSPHRASE_FILE. One of it or BACKUP_RECIPIENT. */
  BACKUP_PASSPHRASE: z.string().min(1).optional(),
  /** age public key (`age1…`) scheduled backups are encrypted to; the identity stays off the server. */
  BACKUP_RECIPIENT: z
    .string()
    .regex(/^(age1[0-9a-z]+)?$/, 'must be an age public key (age1…)')
    .optional()
    // Empty is unset, so an env file can list the variable without choosing it.
    .transform((v) => (v === '' ? undefined : v)),
};

/** A backup schedule needs a place to write and exactly one way to encrypt. */
export function backupComplete(
  value: {
    BACKUP_SCHEDULE?: string | undefined;
    BACKUP_DIR?: string | undefined;
    BACKUP_PASSPHRASE?: string | undefined;
    BACKUP_RECIPIENT?: string | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if (value.BACKUP_SCHEDULE === undefined) return;
  if (value.BACKUP_DIR === undefined) {
    ctx.addIssue({ code: 'custom', path: ['BACKUP_DIR'], message: 'is required with BACKUP_SCHEDULE' });
  }
  if ((value.BACKUP_PASSPHRASE === undefined) === (value.BACKUP_RECIPIENT === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['BACKUP_PASSPHRASE'],
      message:
        'set exactly one of BACKUP_PASSPHRASE (or BACKUP_PASSPHRASE_FILE) and BACKUP_RECIPIENT with BACKUP_SCHEDULE',
    });
  }
}
