import type { User } from '../users/user';
import { accountKeysJson } from '../users/profile';

/** A master password is set: SSO-provisioned users have none (empty, or NULL once the column allows it). */
export function hasMasterPasswordOf(user: User): boolean {
  // Typed as a string today; the column becomes nullable for Key Connector users.
  const hash = user.masterPasswordHash as string | null;
  return typeof hash === 'string' && hash !== '';
}

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
    /** SSO logins: the options the organization's configuration calls for (Key Connector, trusted devices). */
    ssoDecryptionOptions?: Record<string, unknown>;
  },
): Record<string, unknown> {
  // A user provisioned by SSO has no master password and no keys until set-password: the clients
  // then need Kdf and UserDecryptionOptions but no Key, PrivateKey or AccountKeys.
  const hasMasterPassword = hasMasterPasswordOf(user);
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
    ...(user.key ? { Key: user.key } : {}),
    ...(user.privateKey ? { PrivateKey: user.privateKey, AccountKeys: accountKeysJson(user) } : {}),
    Kdf: user.kdf,
    KdfIterations: user.kdfIterations,
    KdfMemory: user.kdfMemory,
    KdfParallelism: user.kdfParallelism,
    ForcePasswordReset: user.forcePasswordReset,
    ResetMasterPassword: false,
    ApiUseKeyConnector: false,
    MasterPasswordPolicy: tokens.masterPasswordPolicy ?? null,
    UserDecryptionOptions: {
      HasMasterPassword: hasMasterPassword,
      ...(hasMasterPassword
        ? {
            MasterPasswordUnlock: {
              Kdf: kdf,
              MasterKeyEncryptedUserKey: user.key,
              MasterKeyWrappedUserKey: user.key,
              Salt: user.email,
            },
          }
        : {}),
      ...tokens.ssoDecryptionOptions,
      Object: 'userDecryptionOptions',
    },
    ...(tokens.twoFactorToken ? { TwoFactorToken: tokens.twoFactorToken } : {}),
  };
}
