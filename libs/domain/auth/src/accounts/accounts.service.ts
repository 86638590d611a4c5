import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import {
  EventType,
  KdfType,
  PushType,
  badRequest,
  isWellFormedEncString,
  kdfProblem,
  rateLimited,
  type KdfSettings,
} from '@keyhaven/contracts';
import { MAILER, type Mailer } from '@keyhaven/mail';
import { PushPublisher } from '@keyhaven/bus';
import { Database, EventRecorder } from '@keyhaven/db';
import { AttemptLimiter } from '../login/attempt-limiter';
import { PasswordHasher } from '../password-hasher';
import { newApiKey } from '../secrets';
import { AccessTokens } from '../tokens/access-tokens';
import { RefreshTokens } from '../tokens/refresh-tokens';
import { ServerSecrets } from '../tokens/server-secrets';
import { TwoFactorService } from '../two-factor/two-factor.service';
import { kdfOf, normalizeEmail, type User } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { toRegistration, type RegisterFinishRequest } from './registration';

const VERIFICATION_LIFETIME_S = 24 * 3600;
const emailTaken = (email: string): Error =>
  badRequest(`Email '${email}' is already taken.`, { email: ['Email is already taken.'] });
const REGISTRATION_CLOSED = 'Registration has been disabled by the system administrator.';

/**
 * What prelogin answers for an email with no account, picked by the first byte of an HMAC of the
 * email under a server secret: settings real accounts have (the clients' PBKDF2 default, most
 * accounts; their Argon2id default; a raised PBKDF2 count), so the answer cannot tell whether the
 * account exists. Stable per email, across calls, restarts and instances; unknowable without the
 * secret. `upTo` is the exclusive upper bound of the byte values that pick the entry.
 */
const UNKNOWN_EMAIL_KDFS: readonly { upTo: number; kdf: KdfSettings }[] = [
  { upTo: 192, kdf: { kdf: KdfType.Pbkdf2, iterations: 600_000, memory: null, parallelism: null } },
  { upTo: 240, kdf: { kdf: KdfType.Argon2id, iterations: 3, memory: 64, parallelism: 4 } },
  { upTo: 256, kdf: { kdf: KdfType.Pbkdf2, iterations: 1_000_000, memory: null, parallelism: null } },
];

export const passwordChangeSchema = z.object({
  masterPasswordHash: z.string().min(1),
  newMasterPasswordHash: z.string().min(1).max(1000),
  masterPasswordHint: z.string().max(50).nullish(),
  key: z.string().refine(isWellFormedEncString, 'must be a valid encrypted string'),
});

const kdfObject = z.object({
  kdfType: z.number().int(),
  iterations: z.number().int(),
  memory: z.number().int().nullish(),
  parallelism: z.number().int().nullish(),
});

export const kdfChangeSchema = z.object({
  masterPasswordHash: z.string().min(1),
  newMasterPasswordHash: z.string().min(1).max(1000).nullish(),
  key: z.string().refine(isWellFormedEncString, 'must be a valid encrypted string').nullish(),
  kdf: z.number().int().nullish(),
  kdfIterations: z.number().int().nullish(),
  kdfMemory: z.number().int().nullish(),
  kdfParallelism: z.number().int().nullish(),
  authenticationData: z
    .object({ kdf: kdfObject, masterPasswordAuthenticationHash: z.string().min(1), salt: z.string() })
    .nullish(),
  unlockData: z
    .object({ kdf: kdfObject, masterKeyWrappedUserKey: z.string().refine(isWellFormedEncString), salt: z.string() })
    .nullish(),
});

@Injectable()
export class AccountsService {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: AccessTokens,
    private readonly refreshTokens: RefreshTokens,
    private readonly twoFactor: TwoFactorService,
    private readonly limiter: AttemptLimiter,
    private readonly secrets: ServerSecrets,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    private readonly push: PushPublisher,
    private readonly db: Database,
    private readonly events: EventRecorder,
  ) {}

  /** Returns the token when mail is not delivered (the client then continues at once), else null. */
  async sendVerificationEmail(emailInput: string, name: string | null): Promise<string | null> {
    if (!this.config.SIGNUPS_ALLOWED) throw badRequest(REGISTRATION_CLOSED);
    const email = normalizeEmail(emailInput);
    const token = await this.tokens.signPurpose('register', { email, name: name ?? '' }, VERIFICATION_LIFETIME_S);
    if (!this.mailer.delivers) return token;
    const link = `${this.config.DOMAIN}/#/finish-signup?token=${encodeURIComponent(token)}&email=${encodeURIComponent(email)}&fromEmail=true`;
    await this.mailer.send({
      to: email,
      subject: 'Verify your email for Keyhaven',
      text: `Finish creating your account: ${link}\n\nThe link is valid for 24 hours.`,
    });
    return null;
  }

  async register(body: RegisterFinishRequest, requireVerification: boolean): Promise<User> {
    if (!this.config.SIGNUPS_ALLOWED) throw badRequest(REGISTRATION_CLOSED);
    // With mail configured, an address must be proven: the unverified legacy route is closed.
    if (!requireVerification && this.mailer.delivers) {
      throw badRequest(
        'Registration requires email verification: start with accounts/register/send-verification-email.',
      );
    }
    const registration = toRegistration(body);
    if (requireVerification) {
      const claims = body.emailVerificationToken
        ? await this.tokens.verifyPurpose('register', body.emailVerificationToken)
        : null;
      if (!claims || claims['email'] !== registration.email)
        throw badRequest('The email verification token is invalid or has expired.');
    }
    // Checked before the (deliberately slow) hash, so a taken address costs no CPU.
    if (await this.users.findByEmail(registration.email)) throw emailTaken(registration.email);
    const id = randomUUID();
    const inserted = await this.users.insert({
      id,
      email: registration.email,
      name: registration.name,
      masterPasswordHash: await this.hasher.hash(registration.masterPasswordHash),
      masterPasswordHint: registration.masterPasswordHint,
      key: registration.key,
      publicKey: registration.publicKey,
      privateKey: registration.encryptedPrivateKey,
      kdf: registration.kdf,
      kdfIterations: registration.kdfIterations,
      kdfMemory: registration.kdfMemory,
      kdfParallelism: registration.kdfParallelism,
      securityStamp: randomUUID(),
      apiKey: newApiKey(),
      emailVerified: requireVerification && this.mailer.delivers,
    });
    if (!inserted)
      throw badRequest(`Email '${registration.email}' is already taken.`, { email: ['Email is already taken.'] });
    const user = await this.users.findById(id);
    if (!user) throw new Error('registered user vanished');
    return user;
  }

  /**
   * The account's KDF; for an unknown email, settings derived from it (UNKNOWN_EMAIL_KDFS), so
   * prelogin cannot tell which accounts exist. Both paths make the same one lookup.
   */
  async preloginKdf(email: string): Promise<KdfSettings & { salt: string }> {
    const normalized = normalizeEmail(email);
    const [user, digest] = await Promise.all([
      this.users.findByEmail(normalized),
      this.secrets.hmac('prelogin-kdf', normalized),
    ]);
    if (user) return { ...kdfOf(user), salt: normalized };
    const pick = digest[0] ?? 0;
    const derived = UNKNOWN_EMAIL_KDFS.find((entry) => pick < entry.upTo) ?? UNKNOWN_EMAIL_KDFS[0];
    if (!derived) throw new Error('no KDF settings to answer');
    return { ...derived.kdf, salt: normalized };
  }

  /**
   * Proves a signed-in user's master password. Every check costs an Argon2 hash, so each counts
   * against the per-account failed-attempt limiter the login uses (`LOGIN_FAILURES_PER_ACCOUNT` per
   * 15 minutes): past it, 429 with Retry-After until the window moves, even for the right password.
   * A success clears the count.
   */
  async requireMasterPassword(user: User, masterPasswordHash: string | null | undefined): Promise<void> {
    const invalid = badRequest('Invalid password.', { masterPasswordHash: ['Invalid password.'] });
    if (!masterPasswordHash) throw invalid;
    const decision = await this.limiter.attempt(`password-check:${user.id}`, null);
    if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds);
    if (!(await this.hasher.verify(user.masterPasswordHash, masterPasswordHash))) throw invalid;
    await this.limiter.succeeded(decision.keys);
  }

  /** The caller's account, once the master password hash they sent proves it is them. */
  async verifyMasterPassword(userId: string, masterPasswordHash: string | null | undefined): Promise<User> {
    const user = await this.users.require(userId);
    await this.requireMasterPassword(user, masterPasswordHash);
    return user;
  }

  async changePassword(user: User, body: z.infer<typeof passwordChangeSchema>): Promise<void> {
    await this.requireMasterPassword(user, body.masterPasswordHash);
    const hash = await this.hasher.hash(body.newMasterPasswordHash);
    await this.db.transaction(async () => {
      await this.users.update(user.id, {
        master_password_hash: hash,
        master_password_hint: body.masterPasswordHint ?? null,
        key: body.key,
        security_stamp: randomUUID(),
      });
      await this.events.record({ type: EventType.User_ChangedPassword, userId: user.id });
    });
    await this.endSessions(user.id);
  }

  async changeKdf(user: User, body: z.infer<typeof kdfChangeSchema>): Promise<void> {
    await this.requireMasterPassword(user, body.masterPasswordHash);
    const auth = body.authenticationData;
    const unlock = body.unlockData;
    const kdf = auth?.kdf ??
      unlock?.kdf ?? {
        kdfType: body.kdf ?? -1,
        iterations: body.kdfIterations ?? 0,
        memory: body.kdfMemory,
        parallelism: body.kdfParallelism,
      };
    const settings = {
      kdf: kdf.kdfType,
      iterations: kdf.iterations,
      memory: kdf.kdfType === 1 ? (kdf.memory ?? null) : null,
      parallelism: kdf.kdfType === 1 ? (kdf.parallelism ?? null) : null,
    };
    const problem = kdfProblem(settings);
    if (problem) throw badRequest(problem, { kdf: [problem] });
    const newHash = auth?.masterPasswordAuthenticationHash ?? body.newMasterPasswordHash;
    const key = unlock?.masterKeyWrappedUserKey ?? body.key;
    if (!newHash || !key) throw badRequest('The new master password hash and key are required.');
    await this.users.update(user.id, {
      master_password_hash: await this.hasher.hash(newHash),
      key,
      kdf: settings.kdf,
      kdf_iterations: settings.iterations,
      kdf_memory: settings.memory,
      kdf_parallelism: settings.parallelism,
      security_stamp: randomUUID(),
    });
    await this.endSessions(user.id);
  }

  /** "Log out everywhere": every access and refresh token issued so far stops working. */
  async rotateSecurityStamp(user: User): Promise<void> {
    await this.users.update(user.id, { security_stamp: randomUUID() });
    await this.endSessions(user.id);
  }

  /** Every refresh token and remembered device goes; access tokens die with the new stamp. */
  private async endSessions(userId: string): Promise<void> {
    await this.refreshTokens.revokeAll(userId);
    await this.twoFactor.forgetRememberedDevices(userId);
    // Every client of the account, this one included, logs out (the hub then closes their connections).
    this.push.publishToUsers(PushType.LogOut, [userId]);
  }

  async rotateApiKey(user: User): Promise<string> {
    const apiKey = newApiKey();
    await this.users.update(user.id, { api_key: apiKey });
    return apiKey;
  }
}
