import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { DEFAULT_KDF, badRequest, isWellFormedEncString, kdfProblem, type KdfSettings } from '@keyhaven/contracts';
import { MAILER, type Mailer } from '@keyhaven/mail';
import { PasswordHasher } from '../password-hasher';
import { newApiKey } from '../secrets';
import { AccessTokens } from '../tokens/access-tokens';
import { RefreshTokens } from '../tokens/refresh-tokens';
import { TwoFactorService } from '../two-factor/two-factor.service';
import { kdfOf, normalizeEmail, type User } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { toRegistration, type RegisterFinishRequest } from './registration';

const VERIFICATION_LIFETIME_S = 24 * 3600;
const emailTaken = (email: string): Error =>
  badRequest(`Email '${email}' is already taken.`, { email: ['Email is already taken.'] });
const REGISTRATION_CLOSED = 'Registration has been disabled by the system administrator.';

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
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
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

  /** Unknown emails get the defaults, so prelogin cannot tell which accounts exist. */
  async preloginKdf(email: string): Promise<KdfSettings & { salt: string }> {
    const normalized = normalizeEmail(email);
    const user = await this.users.findByEmail(normalized);
    return { ...(user ? kdfOf(user) : DEFAULT_KDF), salt: normalized };
  }

  async requireMasterPassword(user: User, masterPasswordHash: string | null | undefined): Promise<void> {
    if (!masterPasswordHash || !(await this.hasher.verify(user.masterPasswordHash, masterPasswordHash))) {
      throw badRequest('Invalid password.', { masterPasswordHash: ['Invalid password.'] });
    }
  }

  /** The caller's account, once the master password hash they sent proves it is them. */
  async verifyMasterPassword(userId: string, masterPasswordHash: string | null | undefined): Promise<User> {
    const user = await this.users.require(userId);
    await this.requireMasterPassword(user, masterPasswordHash);
    return user;
  }

  async changePassword(user: User, body: z.infer<typeof passwordChangeSchema>): Promise<void> {
    await this.requireMasterPassword(user, body.masterPasswordHash);
    await this.users.update(user.id, {
      master_password_hash: await this.hasher.hash(body.newMasterPasswordHash),
      master_password_hint: body.masterPasswordHint ?? null,
      key: body.key,
      security_stamp: randomUUID(),
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
  }

  async rotateApiKey(user: User): Promise<string> {
    const apiKey = newApiKey();
    await this.users.update(user.id, { api_key: apiKey });
    return apiKey;
  }
}
