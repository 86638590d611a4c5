import {
  decryptType2Utf8,
  encryptCipher,
  encryptType2,
  prepareAttachment,
  type CipherRequest,
  type PlainCipher,
  type SymmetricKey,
} from '@keyhaven/vault-crypto';
import { describeError } from './api';
import { fingerprint } from './fingerprint';
import { Progress } from './progress';
import type { Session } from './session';
import type { VaultEntry, VaultIndex } from './vault-index';

/** An attachment to carry over; its bytes are fetched (and decrypted) only when it is uploaded. */
export interface PendingAttachment {
  readonly fileName: string;
  readonly data: () => Promise<Buffer>;
}

export interface UploadItem {
  readonly cipher: PlainCipher;
  readonly folder: string | null;
  /** Where it came from, for the failure report (a row, an item number, a source id). */
  readonly where: string;
  readonly attachments?: readonly PendingAttachment[];
}

export interface UploadSummary {
  created: number;
  skippedDuplicates: number;
  duplicatesInFile: number;
  duplicatesInVault: number;
  foldersCreated: number;
  attachmentsUploaded: number;
  failed: { where: string; reason: string }[];
}

export interface UploadPlan {
  readonly toCreate: UploadItem[];
  /** Items already in the vault that still miss some of their attachments (an interrupted earlier run). */
  readonly toComplete: { entry: VaultEntry; attachments: PendingAttachment[] }[];
  readonly newContainers: string[];
  readonly duplicatesInFile: number;
  readonly duplicatesInVault: number;
}

/** Splits the items into new ones and duplicates (within the input and against the vault), by the duplicate rule. */
export function planUpload(items: readonly UploadItem[], index: VaultIndex): UploadPlan {
  const seen = new Set<string>();
  const toCreate: UploadItem[] = [];
  const toComplete: UploadPlan['toComplete'] = [];
  let duplicatesInFile = 0;
  let duplicatesInVault = 0;
  for (const item of items) {
    const fp = fingerprint(item.cipher);
    const existing = index.byFingerprint.get(fp);
    if (existing?.[0]) {
      duplicatesInVault++;
      const entry = existing[0];
      const missing = (item.attachments ?? []).filter((a) => !entry.attachmentNames.includes(a.fileName));
      if (missing.length > 0) toComplete.push({ entry, attachments: missing });
    } else if (seen.has(fp)) duplicatesInFile++;
    else {
      seen.add(fp);
      toCreate.push(item);
    }
  }
  const newContainers = [
    ...new Set(toCreate.flatMap((i) => (i.folder && !index.containers.has(i.folder) ? [i.folder] : []))),
  ].sort();
  return { toCreate, toComplete, newContainers, duplicatesInFile, duplicatesInVault };
}

export interface UploadTarget {
  readonly session: Session;
  readonly orgId: string | null;
  readonly batchSize: number;
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 300);

/**
 * Carries out a plan: folders (or collections) first, then the items without attachments through the
 * clients' bulk import route a batch at a time (each batch lands whole or not at all, so an interrupted run
 * leaves whole batches, which the next run's deduplication skips); items with attachments one by one, the
 * item and then its files. A refused batch is retried item by item, so one bad item fails alone.
 */
export async function executeUpload(target: UploadTarget, index: VaultIndex, plan: UploadPlan): Promise<UploadSummary> {
  const { session, orgId } = target;
  const key = orgId ? (session.orgKeys.get(orgId) as SymmetricKey) : session.userKey;
  const summary: UploadSummary = {
    created: 0,
    skippedDuplicates: plan.duplicatesInFile + plan.duplicatesInVault,
    duplicatesInFile: plan.duplicatesInFile,
    duplicatesInVault: plan.duplicatesInVault,
    foldersCreated: 0,
    attachmentsUploaded: 0,
    failed: [],
  };
  const progress = new Progress('uploading', plan.toCreate.length + plan.toComplete.length);
  try {
    if (!orgId) {
      for (const name of plan.newContainers) {
        const folder = await session.api.ok<{ id: string }>('POST', '/api/folders', {
          json: { name: encryptType2(key, name) },
        });
        index.containers.set(name, folder.id);
        summary.foldersCreated++;
      }
    }
    const encrypt = (item: UploadItem): CipherRequest => {
      const request = encryptCipher(
        key,
        { ...item.cipher, folderId: null, organizationId: orgId },
        {
          encryptedFor: session.userId,
        },
      );
      if (!orgId && item.folder) request.folderId = index.containers.get(item.folder) ?? null;
      return request;
    };
    const plain = plan.toCreate.filter((i) => !i.attachments || i.attachments.length === 0);
    const withFiles = plan.toCreate.filter((i) => i.attachments && i.attachments.length > 0);
    for (let start = 0; start < plain.length; start += target.batchSize) {
      const batch = plain.slice(start, start + target.batchSize);
      const before = index.containers.size;
      const ok = await importBatch(target, key, index, batch.map(encrypt), batch);
      if (ok) summary.created += batch.length;
      else {
        for (const item of batch) {
          try {
            await createOne(target, encrypt(item), item, index);
            summary.created++;
          } catch (error) {
            summary.failed.push({ where: item.where, reason: reasonOf(error) });
          }
        }
      }
      if (orgId && index.containers.size !== before) summary.foldersCreated += index.containers.size - before;
      progress.advance(batch.length);
    }
    for (const item of withFiles) {
      try {
        const created = await createOne(target, encrypt(item), item, index);
        summary.created++;
        for (const a of item.attachments ?? []) {
          await uploadAttachment(session, created.id, key, a);
          summary.attachmentsUploaded++;
        }
      } catch (error) {
        summary.failed.push({ where: item.where, reason: reasonOf(error) });
      }
      progress.advance(1);
    }
    for (const { entry, attachments } of plan.toComplete) {
      try {
        for (const a of attachments) {
          await uploadAttachment(session, entry.id, entry.key, a);
          summary.attachmentsUploaded++;
        }
      } catch (error) {
        summary.failed.push({ where: `attachments of item ${entry.id}`, reason: reasonOf(error) });
      }
      progress.advance(1);
    }
  } finally {
    progress.stop();
  }
  return summary;
}

/** One bulk import call. With --org, collections created by it are looked up again by name afterwards. */
async function importBatch(
  target: UploadTarget,
  key: SymmetricKey,
  index: VaultIndex,
  ciphers: CipherRequest[],
  batch: readonly UploadItem[],
): Promise<boolean> {
  const { session, orgId } = target;
  const containers = [...new Set(batch.flatMap((i) => (i.folder ? [i.folder] : [])))];
  const position = new Map(containers.map((name, i) => [name, i]));
  const relationships = batch.flatMap((item, i) =>
    item.folder !== null && position.has(item.folder) ? [{ key: i, value: position.get(item.folder) ?? 0 }] : [],
  );
  const entries = containers.map((name) => {
    const id = index.containers.get(name);
    return { ...(id ? { id } : {}), name: encryptType2(key, name) };
  });
  const response = orgId
    ? await session.api.request(
        'POST',
        `/api/ciphers/import-organization?organizationId=${encodeURIComponent(orgId)}`,
        {
          json: { ciphers, collections: entries, collectionRelationships: relationships },
        },
      )
    : await session.api.request('POST', '/api/ciphers/import', {
        json: { ciphers, folders: entries, folderRelationships: relationships },
      });
  if (response.status === 400) return false;
  if (response.status < 200 || response.status >= 300) throw new Error(`import: ${describeError(response)}`);
  if (orgId && entries.some((e) => !('id' in e))) await refreshCollections(session, orgId, key, index);
  return true;
}

async function refreshCollections(
  session: Session,
  orgId: string,
  key: SymmetricKey,
  index: VaultIndex,
): Promise<void> {
  const listed = await session.api.ok<{ data: { id: string; name: string }[] }>(
    'GET',
    `/api/organizations/${encodeURIComponent(orgId)}/collections`,
  );
  for (const c of listed.data) index.containers.set(decryptType2Utf8(key, c.name), c.id);
}

async function createOne(
  target: UploadTarget,
  request: CipherRequest,
  item: UploadItem,
  index: VaultIndex,
): Promise<{ id: string }> {
  const { session, orgId } = target;
  if (!orgId) return session.api.ok<{ id: string }>('POST', '/api/ciphers', { json: request });
  const collection = item.folder ? index.containers.get(item.folder) : undefined;
  return session.api.ok<{ id: string }>('POST', '/api/ciphers/create', {
    json: { cipher: request, collectionIds: collection ? [collection] : [] },
  });
}

/** The v2 flow: announce the encrypted file (key and name under the item's key), then upload its bytes. */
async function uploadAttachment(
  session: Session,
  cipherId: string,
  cipherKey: SymmetricKey,
  a: PendingAttachment,
): Promise<void> {
  const prepared = prepareAttachment(cipherKey, a.fileName, await a.data());
  const created = await session.api.ok<{ attachmentId: string }>('POST', `/api/ciphers/${cipherId}/attachment/v2`, {
    json: { ...prepared.request, adminRequest: false },
  });
  const form = new FormData();
  form.append('data', new Blob([prepared.encryptedData]), 'blob');
  await session.api.ok('POST', `/api/ciphers/${cipherId}/attachment/${created.attachmentId}`, { body: form });
}
