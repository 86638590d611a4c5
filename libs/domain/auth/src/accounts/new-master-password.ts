import { z } from 'zod';
import { badRequest, isWellFormedEncString } from '@keyhaven/contracts';
import { kdfOf, normalizeEmail, type User } from '../users/user';

const kdfObject = z.object({
  kdfType: z.number().int(),
  iterations: z.number().int(),
  memory: z.number().int().nullish(),
  parallelism: z.number().int().nullish(),
});
const encString = z.string().max(10_000).refine(isWellFormedEncString, 'must be a valid encrypted string');

/**
 * A master password set for someone else (emergency takeover, admin account recovery): the 2026 web
 * vault sends `{authenticationData, unlockData}`, older clients `{newMasterPasswordHash, key}`.
 * Both are accepted; unknown fields are ignored.
 */
export const newMasterPasswordFields = {
  newMasterPasswordHash: z.string().min(1).max(1000).nullish(),
  key: encString.nullish(),
  authenticationData: z
    .object({
      kdf: kdfObject,
      salt: z.string().max(1000),
      masterPasswordAuthenticationHash: z.string().min(1).max(1000),
    })
    .nullish(),
  unlockData: z.object({ kdf: kdfObject, salt: z.string().max(1000), masterKeyWrappedUserKey: encString }).nullish(),
};
export const newMasterPasswordSchema = z.object(newMasterPasswordFields);
export type NewMasterPasswordBody = z.infer<typeof newMasterPasswordSchema>;

/** What to store: the client-side hash (hashed again here) and the user key under the new master key. */
export interface NewMasterPassword {
  readonly masterPasswordHash: string;
  readonly key: string;
}

const sameKdf = (user: User, kdf: z.infer<typeof kdfObject>): boolean => {
  const current = kdfOf(user);
  const argon = current.kdf === 1;
  return (
    kdf.kdfType === current.kdf &&
    kdf.iterations === current.iterations &&
    (!argon || ((kdf.memory ?? null) === current.memory && (kdf.parallelism ?? null) === current.parallelism))
  );
};

/**
 * The new password for `user` from either body shape. The KDF and the salt cannot change this way
 * (the server could not tell the account's other clients), and the two halves of the new shape must agree.
 */
export function resolveNewMasterPassword(user: User, body: NewMasterPasswordBody): NewMasterPassword {
  const auth = body.authenticationData;
  const unlock = body.unlockData;
  if (auth || unlock) {
    if (!auth || !unlock) throw badRequest('Both authenticationData and unlockData are required.');
    const salt = normalizeEmail(user.email);
    if (!sameKdf(user, auth.kdf) || !sameKdf(user, unlock.kdf))
      throw badRequest('KDF settings must be equal to the current ones.');
    if (normalizeEmail(auth.salt) !== salt || normalizeEmail(unlock.salt) !== salt)
      throw badRequest('The salt must be the account’s current one.');
    return { masterPasswordHash: auth.masterPasswordAuthenticationHash, key: unlock.masterKeyWrappedUserKey };
  }
  if (!body.newMasterPasswordHash || !body.key)
    throw badRequest('The new master password hash and key are required.', {
      newMasterPasswordHash: ['The new master password hash is required.'],
    });
  return { masterPasswordHash: body.newMasterPasswordHash, key: body.key };
}
