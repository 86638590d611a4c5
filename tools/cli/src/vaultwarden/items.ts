import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { str, strOrNull, type ImportContext, type Row } from './context';
import { cipherData, utc, type VwCipher } from './mapping';

/** Items (ids and encrypted strings kept), each user's folder and favourite of them, and their collections. */
export async function importItems(ctx: ImportContext): Promise<void> {
  const { accounts, orgIds, cipherIds, folderOwner, collectionOrg } = ctx.state;
  const cipherRows: Row[] = [];
  for (const c of (await ctx.rowsOf('ciphers')) as unknown as VwCipher[]) {
    const owned = c.user_uuid ? accounts.has(c.user_uuid) : false;
    const shared = c.organization_uuid ? orgIds.has(c.organization_uuid) : false;
    if (!owned && !shared) {
      ctx.skip('items', c.uuid, 'its owner was not imported');
      continue;
    }
    cipherIds.add(c.uuid);
    cipherRows.push({
      id: c.uuid,
      user_id: c.organization_uuid ? null : c.user_uuid,
      organization_id: c.organization_uuid,
      type: c.atype,
      data: cipherData(c),
      key: c.key,
      reprompt: Number(c.reprompt) === 1 ? 1 : 0,
      creation_date: utc(c.created_at),
      revision_date: utc(c.updated_at),
      deleted_date: utc(c.deleted_at),
    });
  }
  await ctx.insert('items', 'cipher', cipherRows, 'id');

  const state = new Map<string, { user_id: string; cipher_id: string; folder_id: string | null; favorite: boolean }>();
  const stateOf = (userId: string, cipherId: string) => {
    const key = `${userId}/${cipherId}`;
    let s = state.get(key);
    if (!s) state.set(key, (s = { user_id: userId, cipher_id: cipherId, folder_id: null, favorite: false }));
    return s;
  };
  for (const fc of await ctx.rowsOf('folders_ciphers')) {
    const userId = folderOwner.get(str(fc['folder_uuid']));
    if (userId && cipherIds.has(str(fc['cipher_uuid'])))
      stateOf(userId, str(fc['cipher_uuid'])).folder_id = str(fc['folder_uuid']);
  }
  for (const f of await ctx.rowsOf('favorites')) {
    if (accounts.has(str(f['user_uuid'])) && cipherIds.has(str(f['cipher_uuid'])))
      stateOf(str(f['user_uuid']), str(f['cipher_uuid'])).favorite = true;
  }
  await ctx.insert('folders and favourites', 'cipher_user_state', [...state.values()], `user_id || '/' || cipher_id`);
  await ctx.insert(
    'item collections',
    'collection_cipher',
    (await ctx.rowsOf('ciphers_collections'))
      .filter((c) => cipherIds.has(str(c['cipher_uuid'])) && collectionOrg.has(str(c['collection_uuid'])))
      .map((c) => ({ collection_id: str(c['collection_uuid']), cipher_id: str(c['cipher_uuid']) })),
    `collection_id || '/' || cipher_id`,
  );
}

/** The size of a file in Vaultwarden's data folder, or null when it is not there. */
export const fileSize = (path: string): Promise<number | null> =>
  stat(path).then(
    (s) => s.size,
    () => null,
  );

/** Attachments: the row only with its file, the file only for a new row. */
export async function importAttachments(ctx: ImportContext): Promise<void> {
  const { dataDir } = ctx.options;
  const attachmentRows: Row[] = [];
  const files = new Map<string, string>();
  for (const a of await ctx.rowsOf('attachments')) {
    const id = str(a['id']);
    const cipherId = str(a['cipher_uuid']);
    if (!ctx.state.cipherIds.has(cipherId)) continue;
    if (!/^[a-z0-9]{1,64}$/.test(id)) {
      ctx.skip('attachments', `${cipherId}/${id}`, 'an attachment id Keyhaven cannot serve');
      continue;
    }
    if (!dataDir) {
      ctx.skip('attachments', `${cipherId}/${id}`, 'no --data-dir: the file cannot be read');
      continue;
    }
    const path = join(dataDir, 'attachments', cipherId, id);
    const size = await fileSize(path);
    if (size === null) {
      ctx.skip('attachments', `${cipherId}/${id}`, `the file ${path} is missing`);
      continue;
    }
    files.set(`${cipherId}/${id}`, path);
    attachmentRows.push({
      id,
      cipher_id: cipherId,
      file_name: str(a['file_name']),
      key: strOrNull(a['akey']),
      size,
      validated: true,
      creation_date: ctx.now,
    });
  }
  const created = await ctx.insert('attachments', 'attachment', attachmentRows, `cipher_id || '/' || id`);
  if (ctx.options.dryRun || !ctx.blobs) return;
  for (const [i, key] of created.entries()) {
    ctx.progress('attachment files', i, created.length);
    const body = await readFile(files.get(key) ?? '');
    await ctx.blobs.put(`attachments/${key}`, body, body.length);
  }
}
