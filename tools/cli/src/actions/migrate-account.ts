import {
  decryptAttachment,
  decryptType2Utf8,
  unwrapSymmetricKey,
  type CipherView,
  type PlainCipher,
} from '@keyhaven/vault-crypto';
import { CliError, EXIT, print } from '../context';
import { masterPassword } from '../vault/secrets';
import { login, type Session, type SyncCipher } from '../vault/session';
import { executeUpload, planUpload, type PendingAttachment, type UploadItem } from '../vault/upload';
import { decryptForIndex, loadVaultIndex } from '../vault/vault-index';
import { batchSizeOf, required, summaryLines, type ClientOptions } from './client-common';

export interface MigrateOptions extends ClientOptions {
  readonly from?: string;
  readonly to?: string;
  readonly fromEmail?: string;
  readonly fromPasswordFile?: string;
}

/** A decrypted item as the encrypting side takes it (URIs without a value dropped, no ids of the source). */
function toPlain(view: CipherView): PlainCipher {
  const common = { ...view, name: view.name ?? '--', folderId: null, organizationId: null };
  if (view.type !== 1) return common as PlainCipher;
  return {
    ...common,
    type: 1,
    login: {
      ...view.login,
      uris: (view.login.uris ?? []).flatMap((u) => (u.uri ? [{ uri: u.uri, match: u.match }] : [])),
    },
  };
}

/** The source's attachments of an item: names decrypted now, bytes downloaded and decrypted at upload time. */
function attachmentsOf(
  source: Session,
  cipher: SyncCipher,
  itemKey: Parameters<typeof decryptType2Utf8>[0],
): PendingAttachment[] {
  return (cipher.attachments ?? []).map((a) => ({
    fileName: decryptType2Utf8(itemKey, a.fileName),
    data: async () => {
      let url = a.url as string | null;
      if (!url) url = (await source.api.ok<{ url: string }>('GET', `/api/ciphers/${cipher.id}/attachment/${a.id}`)).url;
      if (!a.key) throw new Error('an attachment without its own key (a legacy upload) cannot be moved');
      return decryptAttachment(unwrapSymmetricKey(itemKey, a.key), await source.api.download(url));
    },
  }));
}

export async function runMigrateAccount(options: MigrateOptions): Promise<void> {
  const from = required(options.from, '--from');
  const to = required(options.to, '--to');
  const email = required(options.email, '--email');
  const fromEmail = options.fromEmail ?? email;
  const batchSize = batchSizeOf(options);
  const fromPassword = await masterPassword({
    file: options.fromPasswordFile,
    envName: 'KEYHAVEN_FROM_PASSWORD',
    label: `${fromEmail} at ${from}`,
  });
  const toPassword = await masterPassword({
    file: options.passwordFile,
    envName: 'KEYHAVEN_PASSWORD',
    label: `${email} at ${to}`,
  });
  const insecure = options.insecure === true;
  const source = await login(from, fromEmail, fromPassword, { insecure });
  const target = await login(to, email, toPassword, { insecure });

  const sync = await source.sync();
  const folderNames = new Map(sync.folders.map((f) => [f.id, decryptType2Utf8(source.userKey, f.name)]));
  const items: UploadItem[] = [];
  const failed: { where: string; reason: string }[] = [];
  let organizationItems = 0;
  for (const cipher of sync.ciphers) {
    if (cipher.deletedDate) continue;
    // Organization items belong to the organization, not to the account: they move with it.
    if (cipher.organizationId) {
      organizationItems++;
      continue;
    }
    const decrypted = decryptForIndex(source.userKey, cipher);
    if (!decrypted) {
      failed.push({
        where: `source item ${cipher.id}`,
        reason: 'cannot be decrypted (an item type this tool does not know)',
      });
      continue;
    }
    try {
      items.push({
        cipher: toPlain(decrypted.view),
        folder: cipher.folderId ? (folderNames.get(cipher.folderId) ?? null) : null,
        where: `source item ${cipher.id}`,
        attachments: attachmentsOf(source, cipher, decrypted.itemKey),
      });
    } catch (error) {
      failed.push({
        where: `source item ${cipher.id}`,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
  const index = await loadVaultIndex(target, null);
  const plan = planUpload(items, index);
  // Folders with no items move too.
  for (const name of folderNames.values())
    if (!index.containers.has(name) && !plan.newContainers.includes(name)) plan.newContainers.push(name);
  const summary = await executeUpload({ session: target, orgId: null, batchSize }, index, plan);
  summary.failed.unshift(...failed);
  print(options.json === true, { read: items.length + failed.length, organizationItems, ...summary }, () =>
    [...summaryLines(summary), `organization items left to their organization: ${organizationItems}`].join('\n'),
  );
  if (summary.failed.length > 0) throw new CliError(`${summary.failed.length} item(s) failed`, EXIT.failure);
}
