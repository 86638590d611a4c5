import { z } from 'zod';
import { guid, isWellFormedEncString } from '@keyhaven/contracts';
import type { Folder } from './folder.repository';

export const folderRequestSchema = z.object({
  name: z.string().max(10_000).refine(isWellFormedEncString, { message: 'must be a valid encrypted string' }),
  id: guid.nullish(),
});

export function folderJson(folder: Folder): Record<string, unknown> {
  return { id: folder.id, name: folder.name, revisionDate: folder.revisionDate.toISOString(), object: 'folder' };
}
