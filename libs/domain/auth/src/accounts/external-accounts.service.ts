import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { DEFAULT_KDF, badRequest } from '@keyhaven/contracts';
import { PasswordHasher } from '../password-hasher';
import { newApiKey, randomToken } from '../secrets';
import { hasMasterPasswordOf } from '../login/token-response';
import { normalizeEmail, type User } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { registerFinishSchema, toRegistration } from './registration';

/**
 * `POST api/accounts/set-password`, V1 (`masterPasswordHash`, `key`, `keys`, flat KDF) and V2
 * (`masterPasswordAuthentication` + `masterPasswordUnlock` + `accountKeys`) — the registration shapes
 * plus `orgIdentifier` (ENTERPRISE.md §1.8).
 */
export const setInitialPasswordSchema = registerFinishSchema.omit({ email: true }).extend({
  orgIdentifier: z.string().min(1).max(50),
  accountKeys: z
    .object({
      accountPublicKey: z.string().max(10_000).nullish(),
      userKeyEncryptedAccountPrivateKey: z.string().max(20_000).nullish(),
      publicKeyEncryptionKeyPair: z
        .object({ publicKey: z.string().max(10_000), wrappedPrivateKey: z.string().max(20_000) })
        .nullish(),
    })
    .nullish(),
});
export type SetInitialPasswordRequest = z.infer<typeof setInitialPasswordSchema>;

/** Accounts that come from an identity provider: created without a master password, which they set later. */
@Injectable()
export class ExternalAccountsService {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  /** A user with no master password, no keys and the default KDF (ENTERPRISE.md §1.8); null when the email is taken. */
  async createWithoutPassword(person: {
    email: string;
    name: string | null;
    emailVerified: boolean;
  }): Promise<User | null> {
    const id = randomUUID();
    const inserted = await this.users.insert({
      id,
      email: normalizeEmail(person.email),
      name: person.name?.slice(0, 50) ?? null,
      masterPasswordHash: '',
      masterPasswordHint: null,
      key: '',
      publicKey: null,
      privateKey: null,
      kdf: DEFAULT_KDF.kdf,
      kdfIterations: DEFAULT_KDF.iterations,
      kdfMemory: DEFAULT_KDF.memory,
      kdfParallelism: DEFAULT_KDF.parallelism,
      securityStamp: randomToken(16),
      apiKey: newApiKey(),
      emailVerified: person.emailVerified,
    });
    return inserted ? this.users.findById(id) : null;
  }

  /** Sets the first master password and keys of a user who has none; 400 when one is already set. */
  async setInitialPassword(user: User, body: SetInitialPasswordRequest): Promise<void> {
    if (hasMasterPasswordOf(user)) throw badRequest('The account already has a master password.');
    const fromAccountKeys = body.accountKeys
      ? {
          publicKey: body.accountKeys.publicKeyEncryptionKeyPair?.publicKey ?? body.accountKeys.accountPublicKey ?? '',
          encryptedPrivateKey:
            body.accountKeys.publicKeyEncryptionKeyPair?.wrappedPrivateKey ??
            body.accountKeys.userKeyEncryptedAccountPrivateKey ??
            '',
        }
      : null;
    const registration = toRegistration({
      ...body,
      email: user.email,
      keys: body.keys ?? (fromAccountKeys?.publicKey && fromAccountKeys.encryptedPrivateKey ? fromAccountKeys : null),
    });
    if (!registration.publicKey && !user.publicKey) {
      throw badRequest('The account keys are required.', { keys: ['The field is required.'] });
    }
    const hash = await this.hasher.hash(registration.masterPasswordHash);
    await this.users.update(user.id, {
      master_password_hash: hash,
      master_password_hint: registration.masterPasswordHint,
      key: registration.key,
      kdf: registration.kdf,
      kdf_iterations: registration.kdfIterations,
      kdf_memory: registration.kdfMemory,
      kdf_parallelism: registration.kdfParallelism,
      ...(registration.publicKey && registration.encryptedPrivateKey
        ? { public_key: registration.publicKey, private_key: registration.encryptedPrivateKey }
        : {}),
    });
  }
}
