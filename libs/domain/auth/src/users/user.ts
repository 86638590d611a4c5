import type { KdfSettings, KdfType } from '@keyhaven/contracts';

export interface User {
  readonly id: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly name: string | null;
  readonly masterPasswordHash: string;
  readonly masterPasswordHint: string | null;
  readonly key: string;
  readonly publicKey: string | null;
  readonly privateKey: string | null;
  readonly userKeyId: string | null;
  readonly kdf: KdfType;
  readonly kdfIterations: number;
  readonly kdfMemory: number | null;
  readonly kdfParallelism: number | null;
  readonly securityStamp: string;
  readonly apiKey: string;
  readonly culture: string;
  readonly avatarColor: string | null;
  readonly premium: boolean;
  /** Set by an admin's account recovery: the next login must choose a new master password. */
  readonly forcePasswordReset: boolean;
  readonly totpSecret: string | null;
  readonly recoveryCodeHash: string | null;
  /** Any two-step provider on: the authenticator or an enabled email / WebAuthn row (computed on read). */
  readonly twoFactorEnabled: boolean;
  /** New-device verification applies unless the user opted out. */
  readonly verifyDevices: boolean;
  readonly equivalentDomains: string[][] | null;
  readonly excludedGlobalDomains: number[] | null;
  readonly creationDate: Date;
  readonly revisionDate: Date;
  readonly accountRevisionDate: Date;
  /** Unlocks with the Key Connector's key instead of a master password. */
  readonly usesKeyConnector: boolean;
  /** False once an operator disabled (offboarded) the account: no login, refresh or API call. */
  readonly enabled: boolean;
}

export function kdfOf(user: User): KdfSettings {
  return { kdf: user.kdf, iterations: user.kdfIterations, memory: user.kdfMemory, parallelism: user.kdfParallelism };
}

/** Bitwarden's salt: the trimmed, lower-cased email. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
