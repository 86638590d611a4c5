import { z } from 'zod';
import { guid, isWellFormedEncString } from '@keyhaven/contracts';
import { cipherRequestSchema } from '../ciphers/cipher-request';
import { folderRequestSchema } from '../folders/folder-json';

const relationships = z.array(z.object({ key: z.number().int().min(0), value: z.number().int().min(0) }));

const MAX_IMPORT_ITEMS = 50_000;

/**
 * `POST ciphers/import` without its items' own validation (`ciphers` as unknowns, with the length
 * limit): the route validates the items a slice at a time (parseBodyInSlices with cipherRequestSchema).
 */
export const importRequestHeadSchema = z.object({
  ciphers: z.array(z.unknown()).max(MAX_IMPORT_ITEMS),
  folders: z.array(folderRequestSchema).max(10_000).default([]),
  folderRelationships: relationships.default([]),
});

/** `POST ciphers/import`: items, folders, and which item goes in which folder (by index). */
export const importRequestSchema = importRequestHeadSchema.extend({
  ciphers: z.array(cipherRequestSchema).max(MAX_IMPORT_ITEMS),
});

/** `POST ciphers/import-organization` without its items' own validation (as importRequestHeadSchema). */
export const orgImportHeadSchema = z.object({
  ciphers: z.array(z.unknown()).max(MAX_IMPORT_ITEMS),
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

/** `POST ciphers/import-organization`: items, collections, and which item goes in which collection. */
export const orgImportSchema = orgImportHeadSchema.extend({
  ciphers: z.array(cipherRequestSchema).max(MAX_IMPORT_ITEMS),
});
