import { DEFAULT_KDF, deriveMasterKey, emailToSalt, kdfToFields, type KdfConfig, type KdfType } from './kdf';
import { unwrapSymmetricKey, wrapSymmetricKey } from './key-wrap';
import { hashMasterPassword, stretchMasterKey } from './master-key';
import { makeWrappedKeyPair } from './rsa';
import { SymmetricKey } from './symmetric-key';

export interface CreateAccountOptions {
  email: string;
  password: string;
  kdf?: KdfConfig;
  masterPasswordHint?: string | null;
}

export type RegisterBodyShape = 'legacy' | 'modern' | 'both';

export interface MasterPasswordAuthenticationData {
  kdf: KdfConfig;
  salt: string;
  masterPasswordAuthenticationHash: string;
}

export interface MasterPasswordUnlockData {
  kdf: KdfConfig;
  salt: string;
  masterKeyWrappedUserKey: string;
}

/** `POST identity/accounts/register/finish`. Optional members depend on the shape asked for. */
export interface RegisterFinishBody {
  email: string;
  emailVerificationToken: string;
  masterPasswordHint: string | null;
  userSymmetricKey: string;
  userAsymmetricKeys: { publicKey: string; encryptedPrivateKey: string };
  masterPasswordHash?: string;
  kdf?: KdfType;
  kdfIterations?: number;
  kdfMemory?: number | null;
  kdfParallelism?: number | null;
  masterPasswordAuthentication?: MasterPasswordAuthenticationData;
  masterPasswordUnlock?: MasterPasswordUnlockData;
}

/** A freshly created account: what a client sends at registration, plus the secrets a test needs later. */
export interface Account {
  email: string;
  /** lower(trim(email)), the KDF salt. */
  salt: string;
  kdfConfig: KdfConfig;
  kdf: KdfType;
  kdfIterations: number;
  kdfMemory: number | null;
  kdfParallelism: number | null;
  masterPasswordHint: string | null;
  masterKey: Buffer;
  masterPasswordHash: string;
  userKey: SymmetricKey;
  /** The user key, type 2 under the stretched master key. */
  key: string;
  publicKey: string;
  privateKey: Buffer;
  /** The PKCS#8 private key, type 2 under the user key. */
  encryptedPrivateKey: string;
  /** 'both' (the default) sends the legacy flat fields and the newer master-password objects together. */
  registerFinishBody(emailVerificationToken: string, shape?: RegisterBodyShape): RegisterFinishBody;
}

export async function createAccount(options: CreateAccountOptions): Promise<Account> {
  const kdfConfig = { ...(options.kdf ?? DEFAULT_KDF) };
  const email = options.email.trim();
  const salt = emailToSalt(email);
  const masterKey = await deriveMasterKey(options.password, salt, kdfConfig);
  const masterPasswordHash = hashMasterPassword(masterKey, options.password);
  const userKey = SymmetricKey.generate();
  const key = wrapSymmetricKey(stretchMasterKey(masterKey), userKey);
  const { publicKey, privateKey, encryptedPrivateKey } = await makeWrappedKeyPair(userKey);
  const masterPasswordHint = options.masterPasswordHint ?? null;

  const registerFinishBody = (
    emailVerificationToken: string,
    shape: RegisterBodyShape = 'both',
  ): RegisterFinishBody => {
    const legacy = shape === 'modern' ? {} : { masterPasswordHash, ...kdfToFields(kdfConfig) };
    const modern =
      shape === 'legacy'
        ? {}
        : {
            masterPasswordAuthentication: {
              kdf: { ...kdfConfig },
              salt,
              masterPasswordAuthenticationHash: masterPasswordHash,
            },
            masterPasswordUnlock: { kdf: { ...kdfConfig }, salt, masterKeyWrappedUserKey: key },
          };
    return {
      email,
      emailVerificationToken,
      masterPasswordHint,
      userSymmetricKey: key,
      userAsymmetricKeys: { publicKey, encryptedPrivateKey },
      ...legacy,
      ...modern,
    };
  };

  return {
    email,
    salt,
    kdfConfig,
    ...kdfToFields(kdfConfig),
    masterPasswordHint,
    masterKey,
    masterPasswordHash,
    userKey,
    key,
    publicKey,
    privateKey,
    encryptedPrivateKey,
    registerFinishBody,
  };
}

/** What a client does after login: derive the master key and unwrap the protected user key (`Key` in the profile). */
export async function unlockUserKey(
  password: string,
  email: string,
  kdf: KdfConfig,
  protectedKey: string,
): Promise<SymmetricKey> {
  const masterKey = await deriveMasterKey(password, email, kdf);
  return unwrapSymmetricKey(stretchMasterKey(masterKey), protectedKey);
}
