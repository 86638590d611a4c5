import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CronTime } from 'cron';
import { DataSource } from 'typeorm';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { JobScheduler, type ScheduledJob } from '@keyhaven/db';
import { BLOB_STORE, type BlobStore } from '@keyhaven/storage';
import { loadAge, type EncryptionKey } from './age-stream';
import { createBackup } from './backup';
import { sessionOn } from './store-session';
import { checkBackupEnvelope, verifyBackupFile } from './verify';

export const BACKUP_JOB = 'scheduled-backup';
/** Finished backups: `keyhaven-20261202T030000Z.backup`; names sort by time. */
const FINISHED = /^keyhaven-(\d{8}T\d{6})Z\.backup$/;
/** What a run cut short leaves behind (createBackup's partial file, a file not yet verified). */
const LEFTOVER = /^keyhaven-\d{8}T\d{6}Z\.backup\.(unverified|unverified\.partial-\d+)$/;

export type Retention = { readonly count: number } | { readonly days: number };

export interface ScheduledBackupResult {
  readonly file: string;
  readonly bytes: number;
  readonly rows: number;
  readonly blobs: number;
  /** `contents`: decrypted and checked end to end; `envelope`: size and age header only (recipient mode). */
  readonly verified: 'contents' | 'envelope';
  readonly pruned: string[];
  readonly ms: number;
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, '');
}

function stampTime(stampText: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(stampText);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/**
 * Deletes finished backups beyond the retention: all but the newest `count`, or those older than `days`.
 * The newest is always kept; files that are not Keyhaven backups are never touched.
 */
export async function pruneBackups(dir: string, retention: Retention, now = new Date()): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => FINISHED.test(n)).sort();
  const keep = new Set(names.slice(-1));
  let doomed: string[];
  if ('count' in retention) doomed = names.slice(0, Math.max(0, names.length - retention.count));
  else {
    const oldest = now.getTime() - retention.days * 86_400_000;
    doomed = names.filter((n) => stampTime(FINISHED.exec(n)?.[1] ?? '') < oldest);
  }
  const removed = doomed.filter((n) => !keep.has(n));
  for (const name of removed) await rm(join(dir, name), { force: true });
  return removed;
}

/** The gap between the next two fire times, within 1 s and 1 h. */
export function checkIntervalMs(cron: CronTime, now = new Date()): number {
  const first = cron.getNextDateFrom(now, 'UTC').toMillis();
  const gap = cron.getNextDateFrom(new Date(first), 'UTC').toMillis() - first;
  return Math.min(3_600_000, Math.max(1000, gap));
}

/**
 * Scheduled backups (BACKUP_SCHEDULE, cron in UTC): at each fire time exactly one instance (the JobScheduler's
 * advisory lock and job_run bookkeeping) writes a backup of the database and blobs into BACKUP_DIR, under a
 * temporary name until it has been read back and verified, then renames it into place (atomic on one file
 * system), logs one line and prunes old ones (BACKUP_RETENTION). A run cut short leaves only a temporary file,
 * removed by the next run.
 */
@Injectable()
export class ScheduledBackupJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('backup');
  private job: ScheduledJob | undefined;

  constructor(
    private readonly scheduler: JobScheduler,
    private readonly dataSource: DataSource,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const schedule = this.config.BACKUP_SCHEDULE;
    if (schedule === undefined) return;
    await loadAge();
    const cron = new CronTime(schedule, 'UTC');
    this.job = this.scheduler.schedule({
      name: BACKUP_JOB,
      // Only bounds the sleep between checks (the fire times come from the cron expression), and with it the first
      // check after boot, which is when a first instance starts counting fire times: within one interval of a
      // frequent schedule rather than the scheduler's minute, within the hour of a daily one as before.
      periodMs: checkIntervalMs(cron),
      nextAfter: (ms) => cron.getNextDateFrom(new Date(ms), 'UTC').toMillis(),
      run: () => this.backUp(),
    });
    this.logger.log(`scheduled backups "${schedule}" (UTC) into ${this.config.BACKUP_DIR ?? ''}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }

  /** One scheduled check now (tests and operators); `ran` when this instance wrote a backup. */
  check(): Promise<string> {
    return this.job ? this.job.check() : Promise.resolve('off');
  }

  /** One backup now, outside the schedule (still under the job's lock): null when a run is in progress elsewhere. */
  runNow(): Promise<ScheduledBackupResult | null> {
    return this.scheduler.exclusively(BACKUP_JOB, () => this.backUp());
  }

  private key(): EncryptionKey {
    const { BACKUP_PASSPHRASE: passphrase, BACKUP_RECIPIENT: recipient } = this.config;
    if (passphrase !== undefined) return { passphrase };
    if (recipient !== undefined) return { recipient };
    throw new Error('scheduled backups need BACKUP_PASSPHRASE or BACKUP_RECIPIENT');
  }

  private async backUp(): Promise<ScheduledBackupResult> {
    const dir = this.config.BACKUP_DIR;
    if (dir === undefined) throw new Error('BACKUP_DIR is not set');
    const key = this.key();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(dir)) if (LEFTOVER.test(name)) await rm(join(dir, name), { force: true });

    const final = join(dir, `keyhaven-${stamp(new Date())}Z.backup`);
    const unverified = `${final}.unverified`;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      await runner.query('RESET TIME ZONE').catch(() => undefined);
      await runner.release();
    };
    try {
      // Row checksums render timestamps in UTC, as the restore that compares them does.
      await runner.query(`SET TIME ZONE 'UTC'`);
      const base = sessionOn(runner, this.config.DATABASE_URL ? 'postgres' : 'pglite');
      const session = {
        ...base,
        // The snapshot ends at COMMIT; give the connection back before the blobs are read (on the embedded
        // store it is the only one, and requests wait for it).
        query: async <T>(text: string, params?: unknown[]): Promise<T[]> => {
          const rows = await base.query<T>(text, params);
          if (text === 'COMMIT') await release();
          return rows;
        },
      };
      const summary = await createBackup(session, this.blobs, unverified, key);
      await release();
      let verified: ScheduledBackupResult['verified'];
      if ('passphrase' in key) {
        const check = await verifyBackupFile(unverified, { passphrase: key.passphrase });
        if (check.rows !== summary.rows || check.blobs !== summary.blobs) {
          throw new Error('the backup read back differs from what was written');
        }
        verified = 'contents';
      } else {
        await checkBackupEnvelope(unverified, summary.bytes);
        verified = 'envelope';
      }
      await rename(unverified, final);
      const pruned = await pruneBackups(dir, this.config.BACKUP_RETENTION);
      const result: ScheduledBackupResult = {
        file: final,
        bytes: summary.bytes,
        rows: summary.rows,
        blobs: summary.blobs,
        verified,
        pruned,
        ms: summary.ms,
      };
      this.logger.log(
        `backup written and verified (${verified}): ${final}, ${summary.bytes} bytes, ${summary.rows} rows, ` +
          `${summary.blobs} blobs, ${summary.ms} ms; pruned ${pruned.length}`,
      );
      if (summary.missingBlobs.length > 0) {
        this.logger.warn(`backup ${final}: ${summary.missingBlobs.length} referenced blob(s) missing from the store`);
      }
      return result;
    } finally {
      await release().catch(() => undefined);
      await rm(unverified, { force: true });
    }
  }
}
