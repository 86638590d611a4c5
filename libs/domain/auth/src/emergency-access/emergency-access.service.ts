import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { badRequest, isWellFormedEncString, rateLimited } from '@keyhaven/contracts';
import { MAILER, type Mailer, type MailMessage } from '@keyhaven/mail';
import { AccessTokens } from '../tokens/access-tokens';
import { normalizeEmail } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { EmergencyAccessStatus as Status, type EmergencyAccess, type EmergencyAccessDetails } from './emergency-access';
import { emergencyMail } from './emergency-access-mail';
import { EmergencyAccessRepository } from './emergency-access.repository';

/** The invitation link's lifetime (Bitwarden: OrganizationInviteExpirationHours, 120 h). */
const INVITE_LIFETIME_S = 120 * 3600;
/** Invitation mails (invites and re-sends) a grantor may cause per hour: nobody uses the server to spam an address. */
const INVITES_PER_HOUR = 20;
export const EMERGENCY_ACCESS_NOT_VALID = 'Emergency Access not valid.';

const type = z.union([z.literal(0), z.literal(1)]);
const waitTimeDays = z.number().int().min(1).max(32767);
const rsaKey = z
  .string()
  .max(10_000)
  .refine((v) => isWellFormedEncString(v) && /^[346]\./.test(v), { message: 'must be an RSA-encrypted key' });

export const emergencyInviteSchema = z.object({ email: z.email().max(256), type, waitTimeDays });
export const emergencyUpdateSchema = z.object({ type, waitTimeDays, keyEncrypted: rsaKey.nullish() });
export const emergencyAcceptSchema = z.object({ token: z.string().min(1).max(4000) });
export const emergencyConfirmSchema = z.object({ key: rsaKey });

export const notValid = (): Error => badRequest(EMERGENCY_ACCESS_NOT_VALID);

/**
 * Emergency access set-up: a grantor invites a contact by email (registered or not), the contact
 * accepts with the mailed token, the grantor confirms with their user key wrapped to the contact's
 * public key. Any grant that is missing or not the caller's answers the same 400 as a wrong state.
 */
@Injectable()
export class EmergencyAccessService {
  private readonly logger = new Logger('emergency-access');

  constructor(
    private readonly grants: EmergencyAccessRepository,
    private readonly users: UserRepository,
    private readonly tokens: AccessTokens,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
  ) {}

  listTrusted(grantorId: string): Promise<EmergencyAccessDetails[]> {
    return this.grants.listForGrantor(grantorId);
  }

  listGranted(granteeId: string): Promise<EmergencyAccessDetails[]> {
    return this.grants.listForGrantee(granteeId);
  }

  async getAsGrantor(grantorId: string, id: string): Promise<EmergencyAccessDetails> {
    const details = await this.grants.detailsById(id);
    if (details?.grantorId !== grantorId) throw notValid();
    return details;
  }

  async invite(grantorId: string, body: z.infer<typeof emergencyInviteSchema>): Promise<void> {
    const grantor = await this.users.require(grantorId);
    if (!grantor.premium) throw badRequest('Not a premium user.');
    const email = normalizeEmail(body.email);
    if (email === normalizeEmail(grantor.email))
      throw badRequest('You cannot add yourself as an emergency access contact.');
    await this.limitInvites(grantorId);
    if (await this.grants.existsForGrantorAndEmail(grantorId, email))
      throw badRequest('You have already invited this email address as an emergency contact.');
    const id = randomUUID();
    const grant = {
      id,
      grantorId,
      granteeId: null,
      email,
      keyEncrypted: null,
      type: body.type,
      status: Status.Invited,
      waitTimeDays: body.waitTimeDays,
      recoveryInitiatedDate: null,
      lastNotificationDate: null,
    };
    if (!(await this.grants.insert(grant, new Date())))
      throw badRequest('You have already invited this email address as an emergency contact.');
    await this.sendInvite(id, email, grantor);
  }

  async reinvite(grantorId: string, id: string): Promise<void> {
    const grant = await this.grants.findById(id);
    if (grant?.grantorId !== grantorId || grant.status !== Status.Invited || !grant.email) throw notValid();
    await this.limitInvites(grantorId);
    await this.sendInvite(grant.id, grant.email, await this.users.require(grantorId));
  }

  /** The contact, signed in, presents the mailed token; it is bound to the grant and the invited address. */
  async accept(granteeId: string, id: string, token: string): Promise<void> {
    const [claims, grantee, grant] = await Promise.all([
      this.tokens.verifyPurpose('emergency-invite', token),
      this.users.require(granteeId),
      this.grants.findById(id),
    ]);
    if (!grant || !claims || claims['id'] !== id || claims['email'] !== normalizeEmail(grantee.email))
      throw badRequest('Invalid token.');
    if (grant.status === Status.Accepted)
      throw badRequest(
        'Invitation already accepted. You will receive an email when the grantor confirms you as an emergency access contact.',
      );
    if (grant.status !== Status.Invited) throw badRequest('Invitation already accepted.');
    if (grant.grantorId === granteeId) throw badRequest('You cannot accept your own invitation.');
    const accepted = await this.grants.update(id, { grantee_id: granteeId, email: null, status: Status.Accepted }, [
      Status.Invited,
    ]);
    if (!accepted) throw badRequest('Invitation already accepted.');
    const grantor = await this.users.require(grant.grantorId);
    await this.mail(emergencyMail.accepted(grantor.email, grantee.email));
  }

  /** The grantor's client wrapped their user key to the contact's public key; it is stored as sent. */
  async confirm(grantorId: string, id: string, key: string): Promise<void> {
    const grant = await this.grants.findById(id);
    if (grant?.grantorId !== grantorId || grant.status !== Status.Accepted || !grant.granteeId) throw notValid();
    if (!(await this.grants.update(id, { key_encrypted: key, status: Status.Confirmed }, [Status.Accepted])))
      throw notValid();
    const [grantor, grantee] = await Promise.all([this.users.require(grantorId), this.users.findById(grant.granteeId)]);
    if (grantee) await this.mail(emergencyMail.confirmed(grantee.email, grantor));
  }

  /** Type and wait time; the wrapped key only replaces one already stored (the grantor's key rotation). */
  async update(grantorId: string, id: string, body: z.infer<typeof emergencyUpdateSchema>): Promise<void> {
    const grantor = await this.users.require(grantorId);
    if (!grantor.premium) throw badRequest('Not a premium user.');
    const grant = await this.grants.findById(id);
    if (grant?.grantorId !== grantorId) throw notValid();
    const rotateKey = grant.keyEncrypted !== null && body.keyEncrypted ? { key_encrypted: body.keyEncrypted } : {};
    await this.grants.update(id, { type: body.type, wait_time_days: body.waitTimeDays, ...rotateKey });
  }

  /** Either party may end a grant. */
  async delete(userId: string, id: string): Promise<void> {
    const grant = await this.grants.findById(id);
    if (!grant || (grant.grantorId !== userId && grant.granteeId !== userId)) throw notValid();
    await this.grants.delete(id);
  }

  /** A grant by id as one of its parties sees it; anything else is the same 400. */
  async requireAs(role: 'grantor' | 'grantee', userId: string, id: string): Promise<EmergencyAccess> {
    const grant = await this.grants.findById(id);
    const owner = role === 'grantor' ? grant?.grantorId : grant?.granteeId;
    if (!grant || owner !== userId) throw notValid();
    return grant;
  }

  private async sendInvite(id: string, email: string, grantor: { name: string | null; email: string }): Promise<void> {
    const token = await this.tokens.signPurpose('emergency-invite', { id, email }, INVITE_LIFETIME_S);
    const name = encodeURIComponent(grantor.name ?? grantor.email);
    const link = `${this.config.DOMAIN}/#/accept-emergency?id=${id}&name=${name}&email=${encodeURIComponent(email)}&token=${encodeURIComponent(token)}`;
    await this.mail(emergencyMail.invite(email, grantor, link));
  }

  private async limitInvites(grantorId: string): Promise<void> {
    const decision = await this.cacheStore.rateLimiter.hit(
      `emergency-invite:${grantorId}`,
      INVITES_PER_HOUR,
      3_600_000,
    );
    if (!decision.allowed) throw rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  }

  /** The change is saved whatever happens to the mail; a failure is logged without the message. */
  async mail(message: MailMessage): Promise<void> {
    try {
      await this.mailer.send(message);
    } catch (error) {
      this.logger.warn(`emergency access mail not sent: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
  }
}
