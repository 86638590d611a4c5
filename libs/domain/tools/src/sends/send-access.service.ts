import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { notFound, unauthorized } from '@keyhaven/contracts';
import { Database } from '@keyhaven/db';
import {
  AccessTokens,
  AttemptLimiter,
  IdentityError,
  LoginService,
  PasswordHasher,
  UserRepository,
} from '@keyhaven/domain-auth';
import { BLOB_STORE, type BlobStore } from '@keyhaven/storage';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { SendAuthType, SendType, isAccessible, sendAccessJson, sendIdFromAccessId, type Send } from './send';
import { SendEvents } from './send-events';
import { SendPush } from './send-push';
import { SendRepository } from './send.repository';
import { sendBlobKey } from './send.service';

/** Bitwarden's Send access token lives 5 minutes; the download link only as long as a download starts. */
const ACCESS_TOKEN_SECONDS = 300;
const DOWNLOAD_LINK_SECONDS = 120;
const ACCESS_PURPOSE = 'send_access';
const DOWNLOAD_PURPOSE = 'send_download';

/**
 * The 2026 clients parse these errors as a tagged enum: `error` and `send_access_error_type` must
 * pair exactly so (see FEATURES §2.4), always with status 400.
 */
function sendAccessError(error: 'invalid_request' | 'invalid_grant', type: string, description: string): IdentityError {
  return new IdentityError(400, error, description, { send_access_error_type: type });
}

/**
 * The recipient's side: the `send_access` grant on identity (anonymous, or with the client's password
 * hash), then `POST sends/access` and `POST sends/access/file/{fileId}` with that token. Accesses are
 * counted where Bitwarden counts them — text at `sends/access`, files at the download link — never
 * at token issuance, and atomically against `maxAccessCount`.
 */
@Injectable()
export class SendAccessService {
  constructor(
    private readonly db: Database,
    private readonly sends: SendRepository,
    private readonly events: SendEvents,
    private readonly hasher: PasswordHasher,
    private readonly limiter: AttemptLimiter,
    private readonly login: LoginService,
    private readonly tokens: AccessTokens,
    private readonly users: UserRepository,
    private readonly push: SendPush,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** `grant_type=send_access`: `{access_token, expires_in, token_type, scope}`, all four (the SDK needs them). */
  async token(form: Record<string, string | undefined>, ip: string): Promise<Record<string, unknown>> {
    // Per address, like every credential attempt (a password Send is a credential check).
    await this.login.throttleIp(ip);
    const accessId = form['send_id'];
    if (!accessId) throw sendAccessError('invalid_request', 'send_id_required', 'send_id is required.');
    const id = sendIdFromAccessId(accessId);
    const send = id ? await this.sends.findForAccess(id) : null;
    if (!send || !isAccessible(send)) throw sendAccessError('invalid_grant', 'send_id_invalid', 'send_id is invalid.');
    if (send.authType === SendAuthType.Email || send.emails)
      throw sendAccessError('invalid_request', 'email_required', 'email is required.');
    if (send.authType === SendAuthType.Password && send.passwordHash)
      await this.checkPassword(send, send.passwordHash, form['password_hash_b64'], ip);
    const token = await this.tokens.signPurpose(ACCESS_PURPOSE, { send_id: send.id }, ACCESS_TOKEN_SECONDS);
    return { access_token: token, expires_in: ACCESS_TOKEN_SECONDS, token_type: 'Bearer', scope: 'api.send.access' };
  }

  /**
   * Guesses count per Send (and per Send and address) before the hash is checked, so parallel
   * guesses all count; past the limit a 429 even for the right hash, until the window moves.
   */
  private async checkPassword(send: Send, stored: string, given: string | undefined, ip: string): Promise<void> {
    if (!given)
      throw sendAccessError('invalid_request', 'password_hash_b64_required', 'password_hash_b64 is required.');
    const decision = await this.limiter.attempt(`send:${send.id}`, ip);
    if (!decision.allowed) {
      const error = new IdentityError(429, 'too_many_requests', 'Too many attempts. Try again later.');
      error.retryAfterSeconds = decision.retryAfterSeconds;
      throw error;
    }
    // argon2.verify compares in constant time.
    if (!(await this.hasher.verify(stored, given)))
      throw sendAccessError('invalid_grant', 'password_hash_b64_invalid', 'password_hash_b64 is invalid.');
    await this.limiter.succeeded(decision.keys);
  }

  /** `POST sends/access`: the Send's content; a text Send's access is counted here. */
  async access(bearer: string | undefined): Promise<Record<string, unknown>> {
    const id = await this.sendIdOf(bearer);
    const found = await this.sends.findForAccess(id);
    if (!found || !isAccessible(found)) throw notFound('Send');
    const send = found.type === SendType.Text ? await this.countAccess(id) : found;
    if (!send) throw notFound('Send');
    if (send !== found) this.push.updated(send, null);
    const creator = send.hideEmail ? null : ((await this.users.findById(send.userId))?.email ?? null);
    return sendAccessJson(send, creator);
  }

  /** `POST sends/access/file/{fileId}`: counts the file access and hands out a short-lived download link. */
  async fileLink(bearer: string | undefined, fileId: string): Promise<Record<string, unknown>> {
    const id = await this.sendIdOf(bearer);
    const found = await this.sends.findForAccess(id);
    if (!found || found.type !== SendType.File || found.fileId !== fileId) throw notFound('Send');
    const send = await this.countAccess(id);
    if (!send) throw notFound('Send');
    this.push.updated(send, null);
    const token = await this.tokens.signPurpose(
      DOWNLOAD_PURPOSE,
      { send_id: send.id, file_id: fileId },
      DOWNLOAD_LINK_SECONDS,
    );
    const url = `${this.config.DOMAIN}/api/sends/${send.id}/${fileId}?t=${encodeURIComponent(token)}`;
    return { id: fileId, url, object: 'send-fileDownload' };
  }

  /** The anonymous download behind the link: the encrypted bytes, streamed. */
  async download(id: string, fileId: string, token: string | undefined): Promise<{ stream: Readable; size: number }> {
    const claims = token ? await this.tokens.verifyPurpose(DOWNLOAD_PURPOSE, token) : null;
    if (!claims || claims['send_id'] !== id || claims['file_id'] !== fileId) throw notFound('Send file');
    const key = sendBlobKey(id, fileId);
    const info = await this.blobs.stat(key);
    const stream = info ? await this.blobs.get(key) : null;
    if (!info || !stream) throw notFound('Send file');
    return { stream, size: info.size };
  }

  /** One access counted with its event, or null when none was left. */
  private countAccess(id: string): Promise<Send | null> {
    return this.db.transaction(async () => {
      const counted = await this.sends.countAccess(id);
      if (counted) await this.events.accessed(counted);
      return counted;
    });
  }

  private async sendIdOf(bearer: string | undefined): Promise<string> {
    const token = /^Bearer\s+(\S+)$/i.exec(bearer ?? '')?.[1];
    const claims = token ? await this.tokens.verifyPurpose(ACCESS_PURPOSE, token) : null;
    const id = claims?.['send_id'];
    if (typeof id !== 'string') throw unauthorized();
    return id;
  }
}
