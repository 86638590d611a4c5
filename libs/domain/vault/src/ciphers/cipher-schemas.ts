import { z } from 'zod';
import { guid } from '@keyhaven/contracts';
import { cipherRequestSchema } from './cipher-request';

/** Request bodies of the bulk, sharing and per-user item routes. */
export const idsSchema = z.object({ ids: z.array(guid).max(10_000) });
export const moveSchema = idsSchema.extend({ folderId: guid.nullish() });
export const shareSchema = z.object({
  cipher: cipherRequestSchema,
  collectionIds: z.array(guid).max(1000).default([]),
});
export const collectionsSchema = z.object({ collectionIds: z.array(guid).max(1000) });
export const partialSchema = z.object({ folderId: guid.nullish(), favorite: z.boolean().nullish() });
