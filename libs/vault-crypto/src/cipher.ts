import { createHash } from 'node:crypto';
import {
  CARD_FIELDS,
  IDENTITY_FIELDS,
  SSH_KEY_FIELDS,
  type CipherRequest,
  type CipherView,
  type EncryptedCipher,
  type FieldData,
  type LoginApi,
  type LoginData,
  type PlainCipher,
  type NullableText,
  type NullableTextFields,
} from './cipher-types';
import { decryptType2Utf8, encryptType2 } from './enc-string';
import { generateItemKey, unwrapSymmetricKey, wrapSymmetricKey } from './key-wrap';
import { SymmetricKey } from './symmetric-key';

/** Like the clients' encryptObjProperty: empty and missing values are sent as null, not encrypted. */
function enc(key: SymmetricKey, value: NullableText | undefined): NullableText {
  return value === undefined || value === null || value === '' ? null : encryptType2(key, value);
}

function dec(key: SymmetricKey, value: NullableText | undefined): NullableText {
  return value === undefined || value === null ? null : decryptType2Utf8(key, value);
}

function mapFields<K extends string>(
  names: readonly K[],
  source: Partial<NullableTextFields<K>>,
  fn: (value: NullableText | undefined) => NullableText,
): NullableTextFields<K> {
  return Object.fromEntries(names.map((n) => [n, fn(source[n])])) as NullableTextFields<K>;
}

function uriChecksum(uri: string): string {
  return createHash('sha256').update(uri, 'utf8').digest('base64');
}

export interface EncryptCipherOptions {
  /** Encrypt under a per-item key (the `cipher-key-encryption` behaviour): true for a fresh one, or a given key. */
  itemKey?: boolean | SymmetricKey;
  /** The acting user's id; recent clients send it so the server can refuse items encrypted for someone else. */
  encryptedFor?: string;
  lastKnownRevisionDate?: string | null;
}

/** The key an item's fields are encrypted under: its own item key when `key` is set, else the user/org key. */
export function cipherKeyOf(userOrOrgKey: SymmetricKey, cipher: { key?: string | null }): SymmetricKey {
  return cipher.key ? unwrapSymmetricKey(userOrOrgKey, cipher.key) : userOrOrgKey;
}

function encryptLogin(key: SymmetricKey, login: Extract<PlainCipher, { type: 1 }>['login']): LoginApi {
  return {
    username: enc(key, login.username),
    password: enc(key, login.password),
    totp: enc(key, login.totp),
    uris:
      login.uris?.map((u) => ({
        uri: enc(key, u.uri),
        match: u.match ?? null,
        uriChecksum: enc(key, uriChecksum(u.uri)),
      })) ?? [],
    passwordRevisionDate: login.passwordRevisionDate ?? null,
    autofillOnPageLoad: login.autofillOnPageLoad ?? null,
  };
}

/**
 * Encrypts a plaintext item into the CipherRequest JSON an official client sends. `userOrOrgKey` is the user key,
 * or the organisation key for an org item.
 */
export function encryptCipher(
  userOrOrgKey: SymmetricKey,
  plain: PlainCipher,
  options: EncryptCipherOptions = {},
): CipherRequest {
  let key = userOrOrgKey;
  let wrappedItemKey: string | null = null;
  if (options.itemKey instanceof SymmetricKey) {
    key = options.itemKey;
    wrappedItemKey = wrapSymmetricKey(userOrOrgKey, key);
  } else if (options.itemKey === true) {
    ({ key, wrapped: wrappedItemKey } = generateItemKey(userOrOrgKey));
  }

  const request: CipherRequest = {
    type: plain.type,
    key: wrappedItemKey,
    folderId: plain.folderId ?? null,
    organizationId: plain.organizationId ?? null,
    name: enc(key, plain.name),
    notes: enc(key, plain.notes),
    favorite: plain.favorite ?? false,
    reprompt: plain.reprompt ?? 0,
    fields:
      plain.fields?.map((f) => ({
        type: f.type,
        name: enc(key, f.name),
        value: enc(key, f.value),
        linkedId: f.linkedId ?? null,
      })) ?? null,
    passwordHistory:
      plain.passwordHistory?.map((p) => ({ password: enc(key, p.password), lastUsedDate: p.lastUsedDate })) ?? null,
    lastKnownRevisionDate: options.lastKnownRevisionDate ?? null,
  };
  if (options.encryptedFor !== undefined) request.encryptedFor = options.encryptedFor;

  const encrypt = (v: NullableText | undefined): NullableText => enc(key, v);
  switch (plain.type) {
    case 1:
      request.login = encryptLogin(key, plain.login);
      break;
    case 2:
      request.secureNote = { type: 0 };
      break;
    case 3:
      request.card = mapFields(CARD_FIELDS, plain.card, encrypt);
      break;
    case 4:
      request.identity = mapFields(IDENTITY_FIELDS, plain.identity, encrypt);
      break;
    case 5:
      request.sshKey = mapFields(SSH_KEY_FIELDS, plain.sshKey, encrypt);
      break;
  }
  return request;
}

function decryptLogin(key: SymmetricKey, login: Partial<LoginApi>): LoginData {
  return {
    username: dec(key, login.username),
    password: dec(key, login.password),
    totp: dec(key, login.totp),
    uris:
      login.uris?.map((u) => {
        const uri = dec(key, u.uri);
        // A client silently drops such a URI; a test wants to hear about it.
        if (u.uriChecksum && uri !== null && dec(key, u.uriChecksum) !== uriChecksum(uri)) {
          throw new Error('login URI checksum mismatch');
        }
        return { uri, match: u.match ?? null };
      }) ?? null,
    passwordRevisionDate: login.passwordRevisionDate ?? null,
    autofillOnPageLoad: login.autofillOnPageLoad ?? null,
  };
}

function requirePart<T>(part: T | null | undefined, name: string): T {
  if (part === null || part === undefined) throw new Error(`cipher has no ${name} data`);
  return part;
}

/** Decrypts an item from a request or response, honouring its item key. Throws on any MAC failure. */
export function decryptCipher(userOrOrgKey: SymmetricKey, cipher: EncryptedCipher): CipherView {
  const type: number = cipher.type;
  const key = cipherKeyOf(userOrOrgKey, cipher);
  const decrypt = (v: NullableText | undefined): NullableText => dec(key, v);
  const common = {
    name: dec(key, cipher.name),
    notes: dec(key, cipher.notes),
    favorite: cipher.favorite ?? false,
    reprompt: cipher.reprompt ?? 0,
    folderId: cipher.folderId ?? null,
    organizationId: cipher.organizationId ?? null,
    fields:
      cipher.fields?.map((f): FieldData => ({
        type: f.type,
        name: dec(key, f.name),
        value: dec(key, f.value),
        linkedId: f.linkedId ?? null,
      })) ?? null,
    passwordHistory:
      cipher.passwordHistory?.map((p) => ({ password: dec(key, p.password), lastUsedDate: p.lastUsedDate })) ?? null,
  };
  switch (cipher.type) {
    case 1:
      return { ...common, type: 1, login: decryptLogin(key, requirePart(cipher.login, 'login')) };
    case 2:
      return { ...common, type: 2, secureNote: { type: 0 } };
    case 3:
      return { ...common, type: 3, card: mapFields(CARD_FIELDS, requirePart(cipher.card, 'card'), decrypt) };
    case 4:
      return {
        ...common,
        type: 4,
        identity: mapFields(IDENTITY_FIELDS, requirePart(cipher.identity, 'identity'), decrypt),
      };
    case 5:
      return { ...common, type: 5, sshKey: mapFields(SSH_KEY_FIELDS, requirePart(cipher.sshKey, 'sshKey'), decrypt) };
    default:
      // Server JSON is not bound by the type: newer item types (bank account, passport…) land here.
      throw new Error(`unsupported cipher type ${type}`);
  }
}
