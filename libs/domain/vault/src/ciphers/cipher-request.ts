import { z } from 'zod';
import {
  MAX_UNKNOWN_FIELD_CHARS,
  MAX_UNKNOWN_FIELD_DEPTH,
  guid,
  isWellFormedEncString,
  isoDate,
  smallint,
  unknownFieldChars,
  unknownFieldDepth,
} from '@keyhaven/contracts';

const enc = z.string().max(200_000).refine(isWellFormedEncString, { message: 'must be a valid encrypted string' });
const encOpt = enc.nullish();

const uri = z.looseObject({ uri: encOpt, uriChecksum: encOpt, match: smallint(0, 255).nullish() });
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
const secureNote = z.looseObject({ type: smallint(0, 255).nullish() });
const sshKey = z.looseObject({ privateKey: encOpt, publicKey: encOpt, keyFingerprint: encOpt });
const field = z.looseObject({
  type: smallint(0, 255),
  name: encOpt,
  value: encOpt,
  linkedId: smallint().nullish(),
});
const passwordHistory = z.looseObject({ password: enc, lastUsedDate: z.string() });

const cipherShape = {
  type: smallint(1, 255),
  organizationId: guid.nullish(),
  folderId: guid.nullish(),
  favorite: z.boolean().nullish(),
  reprompt: smallint(0, 1).nullish(),
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
};

/** The loose objects of an item and the keys each one knows; whatever else they hold counts as unknown. */
const NESTED_KEYS: Record<string, ReadonlySet<string>> = {
  login: new Set(Object.keys(login.shape)),
  card: new Set(Object.keys(card.shape)),
  identity: new Set(IDENTITY_FIELDS),
  secureNote: new Set(Object.keys(secureNote.shape)),
  sshKey: new Set(Object.keys(sshKey.shape)),
};
const uriKeys = new Set(Object.keys(uri.shape));
const fieldKeys = new Set(Object.keys(field.shape));
const historyKeys = new Set(Object.keys(passwordHistory.shape));

/** The item's own keys and each loose object inside it, with the keys each one knows. */
function looseParts(item: Record<string, unknown>): [unknown, ReadonlySet<string>][] {
  const parts: [unknown, ReadonlySet<string>][] = [[item, TOP_KEYS]];
  for (const [key, known] of Object.entries(NESTED_KEYS)) parts.push([item[key], known]);
  const loginUris = (item['login'] as { uris?: unknown } | null | undefined)?.uris;
  for (const u of Array.isArray(loginUris) ? (loginUris as unknown[]) : []) parts.push([u, uriKeys]);
  for (const f of Array.isArray(item['fields']) ? (item['fields'] as unknown[]) : []) parts.push([f, fieldKeys]);
  const history = item['passwordHistory'];
  for (const h of Array.isArray(history) ? (history as unknown[]) : []) parts.push([h, historyKeys]);
  return parts;
}

/**
 * A CipherRequest: the known encrypted fields are checked to be well-formed EncStrings; anything
 * else a newer client sends (new item types, new fields) is kept and returned untouched, up to
 * MAX_UNKNOWN_FIELD_CHARS per item and MAX_UNKNOWN_FIELD_DEPTH levels per field (whatever
 * wraps the item: a create, a share, an import).
 */
export const cipherRequestSchema = z.looseObject(cipherShape).superRefine((item, ctx) => {
  const parts = looseParts(item);
  const chars = parts.reduce((sum, [value, known]) => sum + unknownFieldChars(value, known), 0);
  if (chars > MAX_UNKNOWN_FIELD_CHARS) {
    ctx.addIssue({
      code: 'custom',
      message: `Unknown fields of an item may take at most ${MAX_UNKNOWN_FIELD_CHARS} characters.`,
    });
  }
  if (parts.some(([value, known]) => unknownFieldDepth(value, known) > MAX_UNKNOWN_FIELD_DEPTH)) {
    ctx.addIssue({
      code: 'custom',
      message: `Unknown fields of an item may be nested at most ${MAX_UNKNOWN_FIELD_DEPTH} levels deep.`,
    });
  }
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

/** Keys an item's request knows at its top level: its schema's and the server's own (never stored). */
const TOP_KEYS: ReadonlySet<string> = new Set([...Object.keys(cipherShape), ...SERVER_KEYS]);

export function cipherData(request: CipherRequest): Record<string, unknown> {
  return Object.fromEntries(Object.entries(request).filter(([k]) => !SERVER_KEYS.has(k)));
}
