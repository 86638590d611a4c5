import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { str, strOrNull, type ImportContext, type Row } from './context';
import { cipherData, utc, type VwCipher } from './mapping';

/**
 * Vaultwarden's archive (its `archives` table: who archived which item when) as far as Keyhaven can hold it:
 * Keyhaven's archived date belongs to the item, so a personal item archived by its owner keeps it; an
 * organization item archived by one member would be archived for every member, and is skipped with the reason.
 */
async function readArchives(ctx: ImportContext, ciphers: VwCipher[]): Promise<Map<string, string | null>> {
  const owner = new Map(ciphers.map((c) => [c.uuid, c]));
  const archivedAt = new Map<string, string | null>();
  for (const a of await ctx.rowsOf('archives')) {
    const cipher = owner.get(str(a['cipher_uuid']));
    const what = `${str(a['cipher_uuid'])} archived by ${ctx.state.emailOf.get(str(a['user_uuid'])) ?? str(a['user_uuid'])}`;
    if (!cipher || !ctx.state.cipherIds.has(cipher.uuid)) ctx.skip('archived items', what, 'its item was not imported');
    else if (cipher.organization_uuid)
      ctx.skip(
        'archived items',
        what,
        "an organization item archived by one member: Keyhaven's archive is the item's, it would hide it from every member",
      );
    else if (cipher.user_uuid !== str(a['user_uuid']))
      ctx.skip('archived items', what, 'archived by someone other than its owner');
    else archivedAt.set(cipher.uuid, utc(a['archived_at']));
  }
  return archivedAt;
}

/** Items (ids and encrypted strings kept), each user's folder and favourite of them, and their collections. */
export async function importItems(ctx: ImportContext): Promise<void> {
  const { accounts, orgIds, cipherIds, folderOwner, collectionOrg } = ctx.state;
  const cipherRows: Row[] = [];
  const ciphers = (await ctx.rowsOf('ciphers')) as unknown as VwCipher[];
  for (const c of ciphers) {
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
      archived_date: null as string | null,
    });
  }
  const archivedAt = await readArchives(ctx, ciphers);
  for (const row of cipherRows) row['archived_date'] = archivedAt.get(str(row['id'])) ?? null;
  const created = new Set(await ctx.insert('items', 'cipher', cipherRows, 'id'));
  // The archived date travels in the item row; counted on its own so the summary shows it.
  const archived = ctx.count('archived items');
  archived.read += archivedAt.size;
  for (const id of archivedAt.keys()) {
    if (created.has(id)) archived.created++;
    else archived.existing++;
  }

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
