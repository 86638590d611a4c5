// Plaintext and wire shapes of vault items, matching the official clients' CipherRequest / CipherResponse JSON.
// The same interfaces describe both: in the wire form every string leaf is a type-2 EncString.

export const CipherType = { Login: 1, SecureNote: 2, Card: 3, Identity: 4, SshKey: 5 } as const;
export type CipherType = (typeof CipherType)[keyof typeof CipherType];

export const FieldType = { Text: 0, Hidden: 1, Boolean: 2, Linked: 3 } as const;
export type FieldType = (typeof FieldType)[keyof typeof FieldType];

export const UriMatchType = { Domain: 0, Host: 1, StartsWith: 2, Exact: 3, RegularExpression: 4, Never: 5 } as const;
export type UriMatchType = (typeof UriMatchType)[keyof typeof UriMatchType];

export const CipherRepromptType = { None: 0, Password: 1 } as const;
export type CipherRepromptType = (typeof CipherRepromptType)[keyof typeof CipherRepromptType];

export const CARD_FIELDS = ['cardholderName', 'brand', 'number', 'expMonth', 'expYear', 'code'] as const;
export const IDENTITY_FIELDS = [
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
export const SSH_KEY_FIELDS = ['privateKey', 'publicKey', 'keyFingerprint'] as const;

export type NullableText = string | null;
export type NullableTextFields<K extends string> = Record<K, NullableText>;

export type CardData = NullableTextFields<(typeof CARD_FIELDS)[number]>;
export type IdentityData = NullableTextFields<(typeof IDENTITY_FIELDS)[number]>;
export type SshKeyData = NullableTextFields<(typeof SSH_KEY_FIELDS)[number]>;

export interface LoginUriData {
  uri: NullableText;
  match: UriMatchType | null;
}

export interface LoginData {
  username: NullableText;
  password: NullableText;
  totp: NullableText;
  uris: LoginUriData[] | null;
  passwordRevisionDate: string | null;
  autofillOnPageLoad: boolean | null;
}

export interface FieldData {
  type: FieldType;
  name: NullableText;
  value: NullableText;
  linkedId: number | null;
}

export interface PasswordHistoryData {
  password: NullableText;
  lastUsedDate: string;
}

interface CipherCommon {
  name: NullableText;
  notes: NullableText;
  favorite: boolean;
  reprompt: CipherRepromptType;
  folderId: string | null;
  organizationId: string | null;
  fields: FieldData[] | null;
  passwordHistory: PasswordHistoryData[] | null;
}

/** A decrypted item, every optional member filled in (null when absent). */
export type CipherView = CipherCommon &
  (
    | { type: 1; login: LoginData }
    | { type: 2; secureNote: { type: 0 } }
    | { type: 3; card: CardData }
    | { type: 4; identity: IdentityData }
    | { type: 5; sshKey: SshKeyData }
  );

/** What a test writes: a name, the type's data, and whatever else it cares about. */
export type PlainCipher = Partial<Omit<CipherCommon, 'name' | 'fields'>> & {
  name: string;
  fields?: (Partial<FieldData> & { type: FieldType })[] | null;
} & (
    | {
        type: 1;
        login: Partial<Omit<LoginData, 'uris'>> & { uris?: { uri: string; match?: UriMatchType | null }[] | null };
      }
    | { type: 2; secureNote?: { type: 0 } }
    | { type: 3; card: Partial<CardData> }
    | { type: 4; identity: Partial<IdentityData> }
    | { type: 5; sshKey: Partial<SshKeyData> }
  );

export interface LoginUriApi extends LoginUriData {
  /** b64(SHA-256(uri)), encrypted; clients drop a URI whose checksum does not match. */
  uriChecksum: NullableText;
}

export interface LoginApi extends Omit<LoginData, 'uris'> {
  uris: LoginUriApi[] | null;
}

/** The body of `POST ciphers` / `PUT ciphers/{id}` as an official client builds it. */
export interface CipherRequest extends CipherCommon {
  type: CipherType;
  /** The per-item key, type 2 under the user/org key, when item keys are in use. */
  key: string | null;
  login?: LoginApi;
  secureNote?: { type: 0 };
  card?: CardData;
  identity?: IdentityData;
  sshKey?: SshKeyData;
  lastKnownRevisionDate: string | null;
  encryptedFor?: string;
}

/** An encrypted item as found in a request or in a sync/cipher response (extra members are ignored). */
export interface EncryptedCipher {
  type: CipherType;
  key?: string | null;
  name?: NullableText;
  notes?: NullableText;
  favorite?: boolean | null;
  reprompt?: CipherRepromptType | null;
  folderId?: string | null;
  organizationId?: string | null;
  login?: Partial<LoginApi> | null;
  secureNote?: { type: number } | null;
  card?: Partial<CardData> | null;
  identity?: Partial<IdentityData> | null;
  sshKey?: Partial<SshKeyData> | null;
  fields?: FieldData[] | null;
  passwordHistory?: PasswordHistoryData[] | null;
}
