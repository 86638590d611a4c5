import { z } from 'zod';
import { isWellFormedEncString, guid, opaqueJsonObject } from '@keyhaven/contracts';

// The request bodies of the member routes (web vault and public API), parsed by the controllers.

const accessSelection = z.object({
  id: guid,
  readOnly: z.boolean().default(false),
  hidePasswords: z.boolean().default(false),
  manage: z.boolean().default(false),
});
const memberType = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(4)]);

export const inviteSchema = z.object({
  emails: z.array(z.email().max(256)).min(1).max(100),
  type: memberType,
  permissions: opaqueJsonObject().nullish(),
  collections: z.array(accessSelection).default([]),
  groups: z.array(guid).default([]),
});

export const updateMemberSchema = z.object({
  type: memberType,
  permissions: opaqueJsonObject().nullish(),
  collections: z.array(accessSelection).nullish(),
  groups: z.array(guid).nullish(),
});

const rsaEnc = z
  .string()
  .refine((v) => isWellFormedEncString(v) && /^[346]\./.test(v), { message: 'must be an RSA-encrypted key' });
export const confirmSchema = z.object({ key: rsaEnc });
export const bulkConfirmSchema = z.object({
  keys: z
    .array(z.object({ id: guid, key: rsaEnc }))
    .min(1)
    .max(500),
});
export const acceptSchema = z.object({ token: z.string().min(1).max(4000), resetPasswordKey: z.string().nullish() });
export const idsSchema = z.object({ ids: z.array(guid).min(1).max(500) });
