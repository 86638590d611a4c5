import type { User } from './user';

/** The account's key pair as the clients read it (V1 accounts: no signature keys, no security state). */
export function accountKeysJson(user: User): Record<string, unknown> | null {
  if (!user.privateKey) return null;
  return {
    publicKeyEncryptionKeyPair: {
      wrappedPrivateKey: user.privateKey,
      publicKey: user.publicKey,
      signedPublicKey: null,
    },
    signatureKeyPair: null,
    securityState: null,
    object: 'privateKeys',
  };
}

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
    twoFactorEnabled: user.twoFactorEnabled,
    key: user.key,
    privateKey: user.privateKey,
    accountKeys: accountKeysJson(user),
    securityStamp: user.securityStamp,
    forcePasswordReset: user.forcePasswordReset,
    usesKeyConnector: user.usesKeyConnector,
    avatarColor: user.avatarColor,
    creationDate: user.creationDate.toISOString(),
    verifyDevices: user.verifyDevices,
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

/** The user's equivalent domains (`GET settings/domains` and sync's `domains`). */
export function domainsJson(user: {
  equivalentDomains: string[][] | null;
  excludedGlobalDomains: number[] | null;
}): Record<string, unknown> {
  return { equivalentDomains: user.equivalentDomains ?? [], globalEquivalentDomains: [], object: 'domains' };
}
