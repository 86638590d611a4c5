import type { User } from '../users/user';
import { accountKeysJson } from '../users/profile';

/** The password/client_credentials success body; every PascalCase field here is read by the clients. */
export function tokenResponse(
  user: User,
  tokens: {
    accessToken: string;
    expiresIn: number;
    refreshToken?: string;
    scope: string;
    twoFactorToken?: string;
    masterPasswordPolicy?: Record<string, unknown> | null;
  },
): Record<string, unknown> {
  const kdf = {
    KdfType: user.kdf,
    Iterations: user.kdfIterations,
    Memory: user.kdfMemory,
    Parallelism: user.kdfParallelism,
  };
  return {
    access_token: tokens.accessToken,
    expires_in: tokens.expiresIn,
    token_type: 'Bearer',
    ...(tokens.refreshToken ? { refresh_token: tokens.refreshToken } : {}),
    scope: tokens.scope,
    Key: user.key,
    PrivateKey: user.privateKey,
    AccountKeys: accountKeysJson(user),
    Kdf: user.kdf,
    KdfIterations: user.kdfIterations,
    KdfMemory: user.kdfMemory,
    KdfParallelism: user.kdfParallelism,
    ForcePasswordReset: user.forcePasswordReset,
    ResetMasterPassword: false,
    ApiUseKeyConnector: false,
    MasterPasswordPolicy: tokens.masterPasswordPolicy ?? null,
    UserDecryptionOptions: {
      HasMasterPassword: true,
      MasterPasswordUnlock: {
        Kdf: kdf,
        MasterKeyEncryptedUserKey: user.key,
        MasterKeyWrappedUserKey: user.key,
        Salt: user.email,
      },
      Object: 'userDecryptionOptions',
    },
    ...(tokens.twoFactorToken ? { TwoFactorToken: tokens.twoFactorToken } : {}),
  };
}
