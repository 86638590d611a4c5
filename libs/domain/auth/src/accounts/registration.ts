import { z } from 'zod';
import { badRequest, isWellFormedEncString, kdfProblem, type KdfType } from '@keyhaven/contracts';
import { normalizeEmail } from '../users/user';

const encString = z.string().refine(isWellFormedEncString, { message: 'must be a valid encrypted string' });
const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64');
const kdfObject = z.object({
  kdfType: z.number().int(),
  iterations: z.number().int(),
  memory: z.number().int().nullish(),
  parallelism: z.number().int().nullish(),
});

/** `accounts/register/finish` in both shapes the clients send, and legacy `accounts/register`. */
export const registerFinishSchema = z.object({
  email: z.email().max(256),
  name: z.string().max(50).nullish(),
  emailVerificationToken: z.string().nullish(),
  masterPasswordHash: z.string().min(1).max(1000).nullish(),
  masterPasswordHint: z.string().max(50).nullish(),
  userSymmetricKey: encString.nullish(),
  key: encString.nullish(),
  userAsymmetricKeys: z.object({ publicKey: base64, encryptedPrivateKey: encString }).nullish(),
  keys: z.object({ publicKey: base64, encryptedPrivateKey: encString }).nullish(),
  kdf: z.number().int().nullish(),
  kdfIterations: z.number().int().nullish(),
  kdfMemory: z.number().int().nullish(),
  kdfParallelism: z.number().int().nullish(),
  masterPasswordAuthentication: z
    .object({ kdf: kdfObject, salt: z.string(), masterPasswordAuthenticationHash: z.string().min(1).max(1000) })
    .nullish(),
  masterPasswordUnlock: z.object({ kdf: kdfObject, salt: z.string(), masterKeyWrappedUserKey: encString }).nullish(),
});

export type RegisterFinishRequest = z.infer<typeof registerFinishSchema>;

export interface Registration {
  email: string;
  name: string | null;
  masterPasswordHash: string;
  masterPasswordHint: string | null;
  key: string;
  publicKey: string | null;
  encryptedPrivateKey: string | null;
  kdf: KdfType;
  kdfIterations: number;
  kdfMemory: number | null;
  kdfParallelism: number | null;
}

function sameKdf(a: z.infer<typeof kdfObject>, b: z.infer<typeof kdfObject>): boolean {
  return (
    a.kdfType === b.kdfType &&
    a.iterations === b.iterations &&
    (a.memory ?? null) === (b.memory ?? null) &&
    (a.parallelism ?? null) === (b.parallelism ?? null)
  );
}

/** Reconciles the two body shapes into one registration, refusing contradictions and weak KDFs. */
export function toRegistration(body: RegisterFinishRequest): Registration {
  const email = normalizeEmail(body.email);
  const auth = body.masterPasswordAuthentication;
  const unlock = body.masterPasswordUnlock;
  if (auth && unlock && !sameKdf(auth.kdf, unlock.kdf))
    throw badRequest('The KDF settings of authentication and unlock differ.');
  for (const salt of [auth?.salt, unlock?.salt]) {
    if (salt !== undefined && normalizeEmail(salt) !== email) throw badRequest('The salt must be the account email.');
  }
  if (auth && body.masterPasswordHash && auth.masterPasswordAuthenticationHash !== body.masterPasswordHash) {
    throw badRequest('The master password hashes differ.');
  }
  const kdf = auth?.kdf ??
    unlock?.kdf ?? {
      kdfType: body.kdf ?? 0,
      iterations: body.kdfIterations ?? 0,
      memory: body.kdfMemory ?? null,
      parallelism: body.kdfParallelism ?? null,
    };
  if (
    body.kdf !== undefined &&
    body.kdf !== null &&
    (auth || unlock) &&
    !sameKdf(kdf, {
      kdfType: body.kdf,
      iterations: body.kdfIterations ?? 0,
      memory: body.kdfMemory,
      parallelism: body.kdfParallelism,
    })
  ) {
    throw badRequest('The KDF settings differ between the body shapes.');
  }
  const problem = kdfProblem({
    kdf: kdf.kdfType,
    iterations: kdf.iterations,
    memory: kdf.memory ?? null,
    parallelism: kdf.parallelism ?? null,
  });
  if (problem) throw badRequest(problem, { kdf: [problem] });
  const masterPasswordHash = auth?.masterPasswordAuthenticationHash ?? body.masterPasswordHash;
  if (!masterPasswordHash)
    throw badRequest('The master password hash is required.', { masterPasswordHash: ['The field is required.'] });
  const key = unlock?.masterKeyWrappedUserKey ?? body.userSymmetricKey ?? body.key;
  if (!key) throw badRequest('The user key is required.', { userSymmetricKey: ['The field is required.'] });
  if (unlock && body.userSymmetricKey && unlock.masterKeyWrappedUserKey !== body.userSymmetricKey)
    throw badRequest('The user keys differ.');
  const keys = body.userAsymmetricKeys ?? body.keys ?? null;
  const memory = kdf.kdfType === 1 ? (kdf.memory ?? null) : null;
  const parallelism = kdf.kdfType === 1 ? (kdf.parallelism ?? null) : null;
  return {
    email,
    name: body.name ?? null,
    masterPasswordHash,
    masterPasswordHint: body.masterPasswordHint ?? null,
    key,
    publicKey: keys?.publicKey ?? null,
    encryptedPrivateKey: keys?.encryptedPrivateKey ?? null,
    kdf: kdf.kdfType as KdfType,
    kdfIterations: kdf.iterations,
    kdfMemory: memory,
    kdfParallelism: parallelism,
  };
}
