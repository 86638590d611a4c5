import type { User } from './user';

/** `GET accounts/profile` and sync's `profile`; organizations are filled in by the caller. */
export function profileJson(user: User, organizations: unknown[] = []): Record<string, unknown> {
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    emailVerified: user.emailVerified,
    premium: user.premium,
    premiumFromOrganization: false,
    culture: user.culture,
    twoFactorEnabled: user.totpSecret !== null,
    key: user.key,
    privateKey: user.privateKey,
    accountKeys: user.privateKey
      ? {
          publicKeyEncryptionKeyPair: {
            wrappedPrivateKey: user.privateKey,
            publicKey: user.publicKey,
            signedPublicKey: null,
          },
          signatureKeyPair: null,
          securityState: null,
          object: 'privateKeys',
        }
      : null,
    securityStamp: user.securityStamp,
    forcePasswordReset: false,
    usesKeyConnector: false,
    avatarColor: user.avatarColor,
    creationDate: user.creationDate.toISOString(),
    verifyDevices: false,
    organizations,
    providers: [],
    providerOrganizations: [],
    object: 'profile',
  };
}

export function userDecryptionJson(user: User): Record<string, unknown> {
  return {
    masterPasswordUnlock: {
      kdf: {
        kdfType: user.kdf,
        iterations: user.kdfIterations,
        memory: user.kdfMemory,
        parallelism: user.kdfParallelism,
      },
      masterKeyEncryptedUserKey: user.key,
      masterKeyWrappedUserKey: user.key,
      salt: user.email,
    },
    userKeyId: user.userKeyId,
  };
}
