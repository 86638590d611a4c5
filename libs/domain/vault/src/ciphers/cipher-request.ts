import { z } from 'zod';
import { isWellFormedEncString, guid } from '@keyhaven/contracts';

const enc = z.string().max(200_000).refine(isWellFormedEncString, { message: 'must be a valid encrypted string' });
const encOpt = enc.nullish();
const isoDate = z
  .string()
  .max(64)
  .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'must be a date' });

const uri = z.looseObject({ uri: encOpt, uriChecksum: encOpt, match: z.number().int().nullish() });
const login = z.looseObject({
  username: encOpt,
  password: encOpt,
  totp: encOpt,
  uris: z.array(uri).nullish(),
  passwordRevisionDate: z.string().nullish(),
  autofillOnPageLoad: z.boolean().nullish(),
});
const card = z.looseObject({
  cardholderName: encOpt,
  brand: encOpt,
  number: encOpt,
  expMonth: encOpt,
  expYear: encOpt,
  code: encOpt,
});
const IDENTITY_FIELDS = [
  'title',
  'firstName',
  'middleName',
  'lastName',
  'address1',
  'address2',
  'address3',
  'city',
  'state',
  'postalCode',
  'country',
  'company',
  'email',
  'phone',
  'ssn',
  'username',
  'passportNumber',
  'licenseNumber',
] as const;
const identity = z.looseObject(Object.fromEntries(IDENTITY_FIELDS.map((f) => [f, encOpt])));
const secureNote = z.looseObject({ type: z.number().int().nullish() });
const sshKey = z.looseObject({ privateKey: encOpt, publicKey: encOpt, keyFingerprint: encOpt });
const field = z.looseObject({
  type: z.number().int().min(0).max(255),
  name: encOpt,
  value: encOpt,
  linkedId: z.number().int().nullish(),
});
const passwordHistory = z.looseObject({ password: enc, lastUsedDate: z.string() });

/**
 * A CipherRequest: the known encrypted fields are checked to be well-formed EncStrings; anything
 * else a newer client sends (new item types, new fields) is kept and returned untouched.
 */
export const cipherRequestSchema = z.looseObject({
  type: z.number().int().min(1).max(255),
  organizationId: guid.nullish(),
  folderId: guid.nullish(),
  favorite: z.boolean().nullish(),
  reprompt: z.number().int().min(0).max(1).nullish(),
  key: encOpt,
  name: enc,
  notes: encOpt,
  login: login.nullish(),
  card: card.nullish(),
  identity: identity.nullish(),
  secureNote: secureNote.nullish(),
  sshKey: sshKey.nullish(),
  fields: z.array(field).max(500).nullish(),
  passwordHistory: z.array(passwordHistory).max(500).nullish(),
  lastKnownRevisionDate: isoDate.nullish(),
  archivedDate: isoDate.nullish(),
});

export type CipherRequest = z.infer<typeof cipherRequestSchema>;

/** Keys the server owns or computes; everything else of a request is the item's opaque data. */
const SERVER_KEYS = new Set([
  'id',
  'userId',
  'organizationId',
  'folderId',
  'favorite',
  'reprompt',
  'key',
  'type',
  'lastKnownRevisionDate',
  'encryptedFor',
  'encryptedByKeyId',
  'attachments',
  'attachments2',
  'collectionIds',
  'edit',
  'viewPassword',
  'permissions',
  'revisionDate',
  'creationDate',
  'deletedDate',
  'archivedDate',
  'object',
  'organizationUseTotp',
  'response',
  'data',
]);

export function cipherData(request: CipherRequest): Record<string, unknown> {
  return Object.fromEntries(Object.entries(request).filter(([k]) => !SERVER_KEYS.has(k)));
}
