import { openSync, fstatSync, writeSync, fsyncSync, closeSync, unlinkSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { CliError, EXIT } from '../context';
import type { UploadSummary } from '../vault/upload';

/** Options every client-side command shares (`--server`, `--json` and `--insecure` are the program's). */
export interface ClientOptions {
  readonly server?: string;
  readonly email?: string;
  readonly passwordFile?: string;
  readonly json?: boolean;
  readonly insecure?: boolean;
  readonly batchSize?: string;
}

export function required(value: string | undefined, flag: string): string {
  if (!value) throw new CliError(`${flag} is required`, EXIT.usage);
  return value;
}

export function batchSizeOf(options: ClientOptions): number {
  const n = Number(options.batchSize ?? '1000');
  if (!Number.isInteger(n) || n < 1 || n > 5000) throw new CliError('--batch-size must be 1..5000', EXIT.usage);
  return n;
}

/** Overwrites the file with random bytes (synced to disk) before unlinking it, a pass per 1 MiB chunk. */
export function shred(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(Math.min(size, 1 << 20) || 1);
    for (let offset = 0; offset < size; offset += chunk.length) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, Math.min(chunk.length, size - offset), offset);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
}

export function summaryLines(summary: UploadSummary): string[] {
  return [
    `created: ${summary.created}`,
    `skipped as duplicate: ${summary.skippedDuplicates} (${summary.duplicatesInFile} within the input, ${summary.duplicatesInVault} already in the vault)`,
    `folders created: ${summary.foldersCreated}`,
    ...(summary.attachmentsUploaded > 0 ? [`attachments uploaded: ${summary.attachmentsUploaded}`] : []),
    `failed: ${summary.failed.length}`,
    ...summary.failed.map((f) => `  ${f.where}: ${f.reason}`),
  ];
}
