import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, serverConfigSchema } from '@keyhaven/config';
import {
  BackupDecryptError,
  BackupFormatError,
  CopyRefusedError,
  RestoreRefusedError,
  blobStoreFor,
  copyDatabase,
  createBackup,
  openStoreSession,
  restoreBackup,
  type DecryptionKey,
  type EncryptionKey,
} from '@keyhaven/runtime';
import { CliError, EXIT, print } from '../context';
import { progressBar } from '../progress';

interface Json {
  readonly json?: boolean;
}

export interface BackupOptions extends Json {
  readonly out: string;
  readonly passphraseFile?: string;
  readonly recipient?: string;
}

export interface RestoreOptions extends Json {
  readonly passphraseFile?: string;
  readonly identity?: string;
  readonly verify?: boolean;
}

export interface DbCopyOptions extends Json {
  readonly to: string;
  readonly force?: boolean;
}

/** A secret file's contents without the final newline an editor adds. */
function secretFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the ${what} file ${path}: ${(error as Error).message}`, EXIT.usage);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value.length === 0) throw new CliError(`the ${what} file ${path} is empty`, EXIT.usage);
  return value;
}

/** The first AGE-SECRET-KEY line of an identity file (age-keygen writes comments around it). */
function identityFile(path: string): string {
  const line = secretFile(path, 'identity')
    .split(/\r?\n/)
    .find((l) => l.startsWith('AGE-SECRET-KEY-'));
  if (!line) throw new CliError(`no AGE-SECRET-KEY line in ${path}`, EXIT.usage);
  return line.trim();
}

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

/** Refusals and damaged files are the operator's to fix (exit 1 with the reason), never a stack trace. */
function explained(error: unknown): never {
  if (
    error instanceof BackupDecryptError ||
    error instanceof BackupFormatError ||
    error instanceof RestoreRefusedError ||
    error instanceof CopyRefusedError
  ) {
    throw new CliError(error.message, EXIT.failure);
  }
  throw error;
}

export async function runBackup(options: BackupOptions): Promise<void> {
  if (Boolean(options.passphraseFile) === Boolean(options.recipient)) {
    throw new CliError('give exactly one of --passphrase-file and --recipient', EXIT.usage);
  }
  const key: EncryptionKey = options.passphraseFile
    ? { passphrase: secretFile(options.passphraseFile, 'passphrase') }
    : { recipient: options.recipient ?? '' };
  const config = loadConfig(serverConfigSchema);
  const session = await openStoreSession({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  const blobs = blobStoreFor(config);
  const bar = progressBar(options.json !== true);
  try {
    const summary = await createBackup(session, blobs, options.out, key, bar.update);
    bar.done();
    print(options.json === true, summary, () =>
      [
        `backup written to ${summary.file} (${mb(summary.bytes)})`,
        `  tables: ${summary.tables.length}, rows: ${summary.rows}, blobs: ${summary.blobs} (${mb(summary.blobBytes)})`,
        `  took ${(summary.ms / 1000).toFixed(2)} s`,
        ...(summary.missingBlobs.length > 0
          ? [`  MISSING blobs (referenced, not in the store): ${summary.missingBlobs.join(', ')}`]
          : []),
      ].join('\n'),
    );
    if (summary.missingBlobs.length > 0) {
      throw new CliError(`${summary.missingBlobs.length} blob(s) were missing from the store`, EXIT.failure);
    }
  } finally {
    await session.close();
    await blobs.close();
  }
}

export async function runRestore(file: string, options: RestoreOptions): Promise<void> {
  if (Boolean(options.passphraseFile) === Boolean(options.identity)) {
    throw new CliError('give exactly one of --passphrase-file and --identity', EXIT.usage);
  }
  const key: DecryptionKey = options.passphraseFile
    ? { passphrase: secretFile(options.passphraseFile, 'passphrase') }
    : { identity: identityFile(options.identity ?? '') };
  const config = loadConfig(serverConfigSchema);
  const scratch = options.verify ? mkdtempSync(join(tmpdir(), 'keyhaven-verify-')) : null;
  const blobs = scratch ? null : blobStoreFor(config);
  const bar = progressBar(options.json !== true);
  try {
    const target = scratch
      ? { dataDir: scratch, blobs: null }
      : { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, blobs };
    const summary = await restoreBackup(file, key, target, bar.update).catch(explained);
    bar.done();
    print(options.json === true, { verified: scratch !== null, ...summary }, () =>
      [
        scratch
          ? `verified: every table's count and checksum and every blob's checksum match the manifest`
          : `restored the backup of ${summary.createdAt}`,
        `  tables: ${summary.tables.length}, rows: ${summary.rows}, blobs: ${summary.blobs} (${mb(summary.blobBytes)})`,
        ...(summary.migratedAfter.length > 0 ? [`  migrated after: ${summary.migratedAfter.join(', ')}`] : []),
        `  restore time: ${(summary.ms / 1000).toFixed(2)} s`,
      ].join('\n'),
    );
  } finally {
    bar.done();
    await blobs?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

export async function runDbCopy(options: DbCopyOptions): Promise<void> {
  if (!/^postgres(ql)?:\/\//.test(options.to)) throw new CliError('--to must be a postgres:// URL', EXIT.usage);
  const config = loadConfig(serverConfigSchema);
  if (config.DATABASE_URL) {
    throw new CliError('DATABASE_URL is set: db copy reads the embedded database under DATA_DIR', EXIT.usage);
  }
  const bar = progressBar(options.json !== true);
  const summary = await copyDatabase(
    { dataDir: config.DATA_DIR },
    { databaseUrl: options.to, dataDir: config.DATA_DIR },
    { force: options.force === true },
    bar.update,
  ).catch(explained);
  bar.done();
  print(options.json === true, summary, () =>
    [
      `copied ${summary.rows} rows in ${summary.tables.length} tables; every count and checksum matches`,
      `  took ${(summary.ms / 1000).toFixed(2)} s`,
    ].join('\n'),
  );
}
