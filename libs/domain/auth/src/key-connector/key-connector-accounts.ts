import { Injectable } from '@nestjs/common';
import { EventRecorder } from '@keyhaven/db';
import { EventType, badRequest } from '@keyhaven/contracts';
import { UserRepository } from '../users/user.repository';
import type { User } from '../users/user';

/** A master-password-less account's keys as `set-key-connector-key` carries them (V1 and V2 alike). */
export interface KeyConnectorKeys {
  readonly key: string;
  readonly publicKey: string;
  readonly encryptedPrivateKey: string;
  readonly kdf: { kdf: number; iterations: number; memory: number | null; parallelism: number | null } | null;
}

/**
 * The account side of Key Connector (`app_user`): an existing master-password account moves to Key
 * Connector (its master password hash is cleared, the wrapped user key stays or is replaced), or a
 * new account without keys gets them. Runs in the caller's transaction; records the event there.
 * An account without a master password is stored with an empty hash, as just-in-time accounts are.
 */
@Injectable()
export class KeyConnectorAccounts {
  constructor(
    private readonly users: UserRepository,
    private readonly events: EventRecorder,
  ) {}

  /** `convert-to-key-connector` (key unchanged) and the SDK's `key-connector/enroll` (key replaced). */
  async convert(user: User, wrappedUserKey: string | null): Promise<void> {
    if (user.usesKeyConnector) throw badRequest('Already uses Key Connector.');
    if (user.masterPasswordHash === '') throw badRequest('User has no master password to migrate.');
    await this.users.update(user.id, {
      master_password_hash: '',
      uses_key_connector: true,
      ...(wrappedUserKey ? { key: wrappedUserKey } : {}),
    });
    await this.events.record({ type: EventType.User_MigratedKeyToKeyConnector, userId: user.id });
  }

  /** `set-key-connector-key`: a new (just-in-time) account without keys gets its first ones. */
  async setKeys(user: User, keys: KeyConnectorKeys): Promise<void> {
    if (user.usesKeyConnector || user.key !== '') throw badRequest('User already has a key.');
    await this.users.update(user.id, {
      key: keys.key,
      public_key: keys.publicKey,
      private_key: keys.encryptedPrivateKey,
      uses_key_connector: true,
      ...(keys.kdf
        ? {
            kdf: keys.kdf.kdf,
            kdf_iterations: keys.kdf.iterations,
            kdf_memory: keys.kdf.memory,
            kdf_parallelism: keys.kdf.parallelism,
          }
        : {}),
    });
    await this.events.record({ type: EventType.User_MigratedKeyToKeyConnector, userId: user.id });
  }
}
