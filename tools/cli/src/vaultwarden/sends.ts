import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importedPbkdf2Hash } from '@keyhaven/domain-auth';
import { buf, numOrNull, str, strOrNull, type ImportContext, type Row } from './context';
import { fileSize } from './items';
import { bool, lowerKeys, parseJson, utc } from './mapping';

/** Sends; a password keeps Vaultwarden's PBKDF2 hash, checked the same way as accounts'. Files from the data folder. */
export async function importSends(ctx: ImportContext): Promise<void> {
  const { dataDir } = ctx.options;
  const sendRows: Row[] = [];
  const sendFiles = new Map<string, string>();
  for (const x of await ctx.rowsOf('sends')) {
    const id = str(x['uuid']);
    const userId = strOrNull(x['user_uuid']);
    if (strOrNull(x['organization_uuid'])) {
      // Its key is wrapped with the organization key, which no person's Send in Keyhaven can be opened with.
      ctx.skip(
        'sends',
        id,
        'an organization Send: Keyhaven has Sends of a person only (none of the clients make these)',
      );
      continue;
    }
    if (!userId || !ctx.state.accounts.has(userId)) {
      ctx.skip('sends', id, 'its sender was not imported');
      continue;
    }
    const type = Number(x['atype']);
    const data = (lowerKeys(parseJson(x['data'])) ?? {}) as Record<string, unknown>;
    let fileId: string | null = null;
    let size: number | null = null;
    if (type === 1) {
      fileId = strOrNull(data['id']);
      const path = fileId && dataDir ? join(dataDir, 'sends', id, fileId) : null;
      size = path ? await fileSize(path) : null;
      if (!fileId || !path || size === null) {
        ctx.skip(
          'sends',
          id,
          dataDir ? 'the file of this file Send is missing' : 'no --data-dir: the file cannot be read',
        );
        continue;
      }
      sendFiles.set(`${id}/${fileId}`, path);
    }
    const hash = buf(x['password_hash']);
    sendRows.push({
      id,
      user_id: userId,
      type,
      auth_type: hash.length > 0 ? 1 : 2,
      name: str(x['name']),
      notes: strOrNull(x['notes']),
      key: str(x['akey']),
      data:
        type === 1
          ? { fileName: strOrNull(data['fileName']) }
          : { text: strOrNull(data['text']), hidden: bool(data['hidden']) },
      file_id: fileId,
      file_size: size,
      file_uploaded: type === 1,
      password_hash:
        hash.length > 0 ? importedPbkdf2Hash(buf(x['password_salt']), hash, Number(x['password_iter'])) : null,
      max_access_count: numOrNull(x['max_access_count']),
      access_count: Number(x['access_count']),
      disabled: bool(x['disabled']),
      hide_email: bool(x['hide_email']),
      creation_date: utc(x['creation_date']),
      revision_date: utc(x['revision_date']),
      expiration_date: utc(x['expiration_date']),
      deletion_date: utc(x['deletion_date']),
    });
  }
  const created = await ctx.insert('sends', 'send', sendRows, `id || '/' || coalesce(file_id, '')`);
  if (ctx.options.dryRun || !ctx.blobs) return;
  for (const key of created) {
    const path = sendFiles.get(key);
    if (!path) continue;
    const body = await readFile(path);
    await ctx.blobs.put(`sends/${key}`, body, body.length);
  }
}
