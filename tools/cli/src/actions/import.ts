import { readFileSync } from 'node:fs';
import { CliError, EXIT, print } from '../context';
import { FORMATS, isImportFormat } from '../import/model';
import { parseExport } from '../import/parse';
import { confirm, masterPassword } from '../vault/secrets';
import { login } from '../vault/session';
import { executeUpload, planUpload, type UploadItem, type UploadSummary } from '../vault/upload';
import { loadVaultIndex } from '../vault/vault-index';
import { batchSizeOf, required, shred, summaryLines, type ClientOptions } from './client-common';

export interface ImportOptions extends ClientOptions {
  readonly format?: string;
  readonly org?: string;
  readonly dryRun?: boolean;
  readonly shred?: boolean;
  readonly filePasswordFile?: string;
}

const TYPE_NAMES: Record<number, string> = { 1: 'logins', 2: 'notes', 3: 'cards', 4: 'identities', 5: 'ssh keys' };

export async function runImport(file: string, options: ImportOptions): Promise<void> {
  const server = required(options.server, '--server');
  const email = required(options.email, '--email');
  const format = required(options.format, '--format');
  if (!isImportFormat(format)) throw new CliError(`--format must be one of ${FORMATS.join(', ')}`, EXIT.usage);
  if (options.org && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(options.org))
    throw new CliError('--org must be an organization id', EXIT.usage);
  const batchSize = batchSizeOf(options);
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    throw new CliError(`cannot read ${file}`, EXIT.notFound);
  }
  const password = await masterPassword({ file: options.passwordFile, envName: 'KEYHAVEN_PASSWORD', label: email });
  const session = await login(server, email, password, { insecure: options.insecure === true });
  const parsed = await parseExport(format, data, {
    userKey: session.userKey,
    filePassword: () =>
      masterPassword({
        file: options.filePasswordFile,
        envName: 'KEYHAVEN_FILE_PASSWORD',
        label: `the file ${file}`,
      }),
  });
  const orgId = options.org ?? null;
  const index = await loadVaultIndex(session, orgId);
  const items: UploadItem[] = parsed.items.map((item, i) => ({
    cipher: item.cipher,
    folder: item.folder,
    where: `item ${i + 1}`,
  }));
  const plan = planUpload(items, index);

  if (options.dryRun) {
    const byType: Record<string, number> = {};
    for (const item of plan.toCreate) {
      const name = TYPE_NAMES[item.cipher.type] ?? 'other';
      byType[name] = (byType[name] ?? 0) + 1;
    }
    const result = {
      dryRun: true,
      format,
      read: parsed.items.length,
      toCreate: plan.toCreate.length,
      byType,
      newFolders: plan.newContainers,
      skippedDuplicates: plan.duplicatesInFile + plan.duplicatesInVault,
      duplicatesInFile: plan.duplicatesInFile,
      duplicatesInVault: plan.duplicatesInVault,
      failed: parsed.failures,
    };
    print(options.json === true, result, () =>
      [
        `dry run: nothing written`,
        `would create: ${plan.toCreate.length} (${
          Object.entries(byType)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ') || 'nothing'
        })`,
        `new ${orgId ? 'collections' : 'folders'}: ${plan.newContainers.length}${plan.newContainers.length ? ` (${plan.newContainers.join(', ')})` : ''}`,
        `would skip as duplicate: ${result.skippedDuplicates} (${plan.duplicatesInFile} within the file, ${plan.duplicatesInVault} already in the vault)`,
        `unreadable: ${parsed.failures.length}`,
        ...parsed.failures.map((f) => `  ${f.where}: ${f.reason}`),
      ].join('\n'),
    );
    if (parsed.failures.length > 0)
      throw new CliError(`${parsed.failures.length} record(s) could not be read`, EXIT.failure);
    return;
  }

  const summary: UploadSummary = await executeUpload({ session, orgId, batchSize }, index, plan);
  summary.failed.unshift(...parsed.failures);
  let shredded = false;
  // The source is the only copy of an item that failed: it is kept then, even with --shred.
  const mayShred = summary.failed.length === 0;
  if (mayShred && (options.shred || (!options.json && (await confirm(`Shred ${file} (overwrite, then delete)?`))))) {
    shred(file);
    shredded = true;
  }
  print(
    options.json === true,
    { format, read: parsed.items.length + parsed.failures.length, ...summary, shredded },
    () =>
      [
        ...summaryLines(summary),
        ...(shredded ? [`${file} shredded`] : !mayShred ? [`${file} kept: some items failed`] : []),
      ].join('\n'),
  );
  if (summary.failed.length > 0) throw new CliError(`${summary.failed.length} item(s) failed`, EXIT.failure);
}
