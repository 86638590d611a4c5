import { z } from 'zod';
import { guid, isWellFormedEncString } from '@keyhaven/contracts';
import { cipherRequestSchema } from '../ciphers/cipher-request';
import { folderRequestSchema } from '../folders/folder-json';

const relationships = z.array(z.object({ key: z.number().int().min(0), value: z.number().int().min(0) }));

/** `POST ciphers/import`: items, folders, and which item goes in which folder (by index). */
export const importRequestSchema = z.object({
  ciphers: z.array(cipherRequestSchema).max(50_000),
  folders: z.array(folderRequestSchema).max(10_000).default([]),
  folderRelationships: relationships.default([]),
});

/** `POST ciphers/import-organization`: items, collections, and which item goes in which collection. */
export const orgImportSchema = z.object({
  ciphers: z.array(cipherRequestSchema).max(50_000),
  collections: z
    .array(
      z.object({
        name: z.string().refine(isWellFormedEncString, { message: 'must be a valid encrypted string' }),
        id: guid.nullish(),
        externalId: z.string().max(300).nullish(),
      }),
    )
    .max(10_000)
    .default([]),
  collectionRelationships: relationships.default([]),
});
