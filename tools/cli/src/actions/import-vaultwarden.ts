import { existsSync } from 'node:fs';
import { loadConfig, serverConfigSchema } from '@keyhaven/config';
import { blobStoreFor, openStoreSession } from '@keyhaven/runtime';
import { CliError, EXIT, print } from '../context';
import { progressBar } from '../progress';
import { importVaultwarden, type VaultwardenSummary } from '../vaultwarden/importer';
import { MYSQL_URL, openMysqlSource } from '../vaultwarden/sources/mysql';
import { openPostgresSource } from '../vaultwarden/sources/postgres';
import type { VaultwardenSource } from '../vaultwarden/sources/source';
import { openSqliteSource } from '../vaultwarden/sources/sqlite';

const POSTGRES_URL = /^postgres(ql)?:\/\//;

export interface VaultwardenCliOptions {
  readonly json?: boolean;
  readonly sqlite?: string;
  readonly databaseUrl?: string;
  readonly dataDir?: string;
  readonly dryRun?: boolean;
}

function summaryText(summary: VaultwardenSummary): string {
  const lines = [
    `${summary.dryRun ? 'dry run, nothing written: would import' : 'imported'} from Vaultwarden (${summary.source}) in ${(summary.ms / 1000).toFixed(1)} s`,
  ];
  for (const [name, c] of Object.entries(summary.entities)) {
    lines.push(`  ${name}: ${c.created} new, ${c.existing} already there${c.skipped ? `, ${c.skipped} skipped` : ''}`);
  }
  for (const s of summary.skipped) lines.push(`  skipped ${s.what}: ${s.reason}`);
  for (const n of summary.notMigrated) lines.push(`  not carried over: ${n}`);
  return lines.join('\n');
}

export async function runImportVaultwarden(options: VaultwardenCliOptions): Promise<void> {
  if (Boolean(options.sqlite) === Boolean(options.databaseUrl)) {
    throw new CliError('give exactly one of --sqlite and --database-url', EXIT.usage);
  }
  const url = options.databaseUrl;
  if (url && !POSTGRES_URL.test(url) && !MYSQL_URL.test(url)) {
    throw new CliError('--database-url must be a postgres://, mysql:// or mariadb:// URL', EXIT.usage);
  }
  if (options.sqlite && !existsSync(options.sqlite))
    throw new CliError(`${options.sqlite} does not exist`, EXIT.notFound);
  const config = loadConfig(serverConfigSchema);
  const source: VaultwardenSource = options.sqlite
    ? openSqliteSource(options.sqlite)
    : url && MYSQL_URL.test(url)
      ? await openMysqlSource(url)
      : await openPostgresSource(url ?? '');
  const target = await openStoreSession({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  const blobs = options.dryRun ? null : blobStoreFor(config);
  const bar = progressBar(options.json !== true);
  try {
    const summary = await importVaultwarden(source, target, blobs, {
      dataDir: options.dataDir,
      dryRun: options.dryRun === true,
      progress: bar.update,
    });
    bar.done();
    print(options.json === true, summary, () => summaryText(summary));
  } finally {
    bar.done();
    await source.close();
    await target.close();
    await blobs?.close();
  }
}
