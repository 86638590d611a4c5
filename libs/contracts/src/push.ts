/** Bitwarden's push types, as the notifications hub sends them to clients. */
export const PushType = {
  SyncCipherUpdate: 0,
  SyncCipherCreate: 1,
  SyncLoginDelete: 2,
  SyncFolderDelete: 3,
  SyncCiphers: 4,
  SyncVault: 5,
  SyncOrgKeys: 6,
  SyncFolderCreate: 7,
  SyncFolderUpdate: 8,
  SyncCipherDelete: 9,
  SyncSettings: 10,
  LogOut: 11,
  SyncSendCreate: 12,
  SyncSendUpdate: 13,
  SyncSendDelete: 14,
  AuthRequest: 15,
  AuthRequestResponse: 16,
  SyncOrganizations: 17,
  SyncOrganizationStatusChanged: 18,
  PolicyChanged: 25,
} as const;

/** A change one user's clients should hear about; the notifications service delivers it. */
export interface PushMessage {
  readonly type: number;
  readonly userId: string;
  /** The acting device, so the hub can skip echoing a change back to its author. */
  readonly contextId: string | null;
  readonly payload: Record<string, unknown>;
  /**
   * Only the connections of this device (the `deviceIdentifier` it logged in with) get the message —
   * e.g. LogOut for one deauthorised device, which would otherwise log out every client of the user.
   */
  readonly deviceIdentifier?: string;
}

/**
 * The same change for many users (every member of an organization): one bus message however many members,
 * expanded by each hub instance for the users connected to it. Each user's clients get `payload` when there
 * is one (an organization item's `{ Id, UserId: null, OrganizationId, CollectionIds, RevisionDate }`, the same
 * for all), else `{ UserId, Date }` as with a single-user push.
 */
export interface UsersPushMessage {
  readonly type: number;
  readonly userIds: readonly string[];
  readonly contextId: string | null;
  readonly date: string;
  readonly payload?: Record<string, unknown>;
}

export const PUSH_TOPIC = 'push.user';
