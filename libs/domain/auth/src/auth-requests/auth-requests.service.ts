import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { PushPublisher } from '@keyhaven/bus';
import { Database, EventRecorder } from '@keyhaven/db';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import {
  EventType,
  PushType,
  badRequest,
  isGuid,
  isWellFormedEncString,
  notFound,
  parseDeviceType,
  rateLimited,
} from '@keyhaven/contracts';
import { DeviceRepository } from '../devices/device.repository';
import { constantTimeEquals } from '../secrets';
import { normalizeEmail } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { AuthRequestRepository, type AuthRequest } from './auth-request.repository';

/** Requests of types 0 and 1 expire this long after creation (the clients compute the same). */
export const AUTH_REQUEST_LIFETIME_MS = 15 * 60_000;
/** Admin-approval requests (type 2) wait up to 7 days for an admin, and stay usable 12 hours after approval. */
export const ADMIN_REQUEST_LIFETIME_MS = 7 * 24 * 3600_000;
const ADMIN_APPROVED_LIFETIME_MS = 12 * 3600_000;
/** Anonymous creations per email in the lifetime window, and per client address per minute. */
const CREATES_PER_EMAIL = 10;

export const AuthRequestType = { AuthenticateAndUnlock: 0, Unlock: 1, AdminApproval: 2 } as const;

export const authRequestCreateSchema = z.object({
  email: z.string().min(1).max(256),
  publicKey: z.string().min(1).max(2000),
  deviceIdentifier: z.string().min(1).max(100),
  accessCode: z.string().min(1).max(25),
  type: z.number().int().min(0).max(2),
});
export type AuthRequestCreate = z.infer<typeof authRequestCreateSchema>;

export const authRequestUpdateSchema = z.object({
  key: z.string().refine(isWellFormedEncString, 'must be a valid encrypted string').nullish(),
  masterPasswordHash: z.string().max(1000).nullish(),
  deviceIdentifier: z.string().min(1).max(100),
  requestApproved: z.boolean(),
});
export type AuthRequestUpdate = z.infer<typeof authRequestUpdateSchema>;

/** Display names of Bitwarden's device types, as AuthRequestResponse's `requestDeviceType` shows them. */
const DEVICE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'Android',
  1: 'iOS',
  2: 'Chrome Extension',
  3: 'Firefox Extension',
  4: 'Opera Extension',
  5: 'Edge Extension',
  6: 'Windows',
  7: 'macOS',
  8: 'Linux',
  9: 'Chrome',
  10: 'Firefox',
  11: 'Opera',
  12: 'Edge',
  13: 'Internet Explorer',
  14: 'Unknown Browser',
  15: 'Android',
  16: 'UWP',
  17: 'Safari',
  18: 'Vivaldi',
  19: 'Vivaldi Extension',
  20: 'Safari Extension',
  21: 'SDK',
  22: 'Server',
  23: 'Windows CLI',
  24: 'macOS CLI',
  25: 'Linux CLI',
};

/** Bitwarden's display name of a device type (`requestDeviceType` in auth-request models). */
export const deviceTypeName = (type: number): string => DEVICE_TYPE_NAMES[type] ?? 'Unknown';

const isExpired = (request: AuthRequest, now: number): boolean => {
  if (request.type !== AuthRequestType.AdminApproval)
    return request.creationDate.getTime() + AUTH_REQUEST_LIFETIME_MS <= now;
  if (request.approved === true && request.responseDate)
    return request.responseDate.getTime() + ADMIN_APPROVED_LIFETIME_MS <= now;
  return request.creationDate.getTime() + ADMIN_REQUEST_LIFETIME_MS <= now;
};

/** Login with device: a device without the keys asks, a logged-in device of the same user answers. */
@Injectable()
export class AuthRequestsService {
  constructor(
    private readonly requests: AuthRequestRepository,
    private readonly users: UserRepository,
    private readonly devices: DeviceRepository,
    private readonly push: PushPublisher,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    private readonly db: Database,
    private readonly events: EventRecorder,
  ) {}

  /** The AuthRequestResponse model (`object: "auth-request"`). */
  json(request: AuthRequest): Record<string, unknown> {
    return {
      id: request.id,
      publicKey: request.publicKey,
      requestDeviceIdentifier: request.requestDeviceIdentifier,
      requestDeviceTypeValue: request.requestDeviceType,
      requestDeviceType: deviceTypeName(request.requestDeviceType),
      requestIpAddress: request.requestIpAddress,
      requestCountryName: null,
      key: request.key,
      masterPasswordHash: request.masterPasswordHash,
      creationDate: request.creationDate.toISOString(),
      responseDate: request.responseDate?.toISOString() ?? null,
      requestApproved: request.approved ?? false,
      origin: new URL(this.config.DOMAIN).host,
      object: 'auth-request',
    };
  }

  /** Anonymous: a known device of the user asks to be let in. Limited per client address and per email. */
  async create(body: AuthRequestCreate, deviceTypeHeader: string | undefined, ip: string): Promise<AuthRequest> {
    await this.limit(`auth-request-ip:${ip}`, this.config.LOGIN_RATE_LIMIT_PER_MINUTE, 60_000);
    const email = normalizeEmail(body.email);
    await this.limit(`auth-request-email:${email}`, CREATES_PER_EMAIL, AUTH_REQUEST_LIFETIME_MS);
    if (body.type === AuthRequestType.AdminApproval)
      throw badRequest('You must be authenticated to create a request of that type.');
    if (!deviceTypeHeader) throw badRequest('Device type not provided.');
    const deviceType = parseDeviceType(deviceTypeHeader, 14);
    const user = await this.users.findByEmail(email);
    const device = user ? await this.devices.findForUser(user.id, body.deviceIdentifier) : null;
    if (!user || !device) throw badRequest('User or known device not found.');
    const now = new Date();
    const request = {
      id: randomUUID(),
      userId: user.id,
      type: body.type,
      requestDeviceIdentifier: body.deviceIdentifier,
      requestDeviceType: deviceType,
      requestIpAddress: ip,
      accessCode: body.accessCode,
      publicKey: body.publicKey,
      creationDate: now,
    };
    await this.requests.insert(
      request,
      new Date(now.getTime() - AUTH_REQUEST_LIFETIME_MS),
      new Date(now.getTime() - ADMIN_REQUEST_LIFETIME_MS),
    );
    this.push.publish({
      type: PushType.AuthRequest,
      userId: user.id,
      contextId: body.deviceIdentifier,
      payload: { Id: request.id, UserId: user.id },
    });
    return {
      ...request,
      key: null,
      masterPasswordHash: null,
      approved: null,
      responseDeviceId: null,
      responseDate: null,
      authenticationDate: null,
    };
  }

  /**
   * `POST api/auth-requests/admin-request`: a device signed in through SSO (trusted device encryption)
   * but holding no key asks the organization's admins to approve it. One request, which an admin of
   * any organization where the user is enrolled in account recovery may answer.
   */
  async createAdminRequest(
    userId: string,
    body: AuthRequestCreate,
    deviceTypeHeader: string | undefined,
    ip: string,
  ): Promise<AuthRequest> {
    await this.limit(`auth-request-admin:${userId}`, CREATES_PER_EMAIL, AUTH_REQUEST_LIFETIME_MS);
    if (body.type !== AuthRequestType.AdminApproval) throw badRequest('Invalid auth request type.');
    const user = await this.users.findById(userId);
    if (!user || user.email !== normalizeEmail(body.email)) throw badRequest('User or known device not found.');
    const memberships = await this.requests.approvingMemberships(userId);
    if (memberships.length === 0)
      throw badRequest('User is not enrolled in account recovery with any organization; no admin can approve.');
    const now = new Date();
    const request = {
      id: randomUUID(),
      userId,
      type: AuthRequestType.AdminApproval,
      requestDeviceIdentifier: body.deviceIdentifier,
      requestDeviceType: parseDeviceType(deviceTypeHeader ?? '', 14),
      requestIpAddress: ip,
      accessCode: body.accessCode,
      publicKey: body.publicKey,
      creationDate: now,
    };
    await this.db.transaction(async () => {
      await this.requests.insert(
        request,
        new Date(now.getTime() - AUTH_REQUEST_LIFETIME_MS),
        new Date(now.getTime() - ADMIN_REQUEST_LIFETIME_MS),
      );
      await this.events.record(
        memberships.map((m) => ({
          type: EventType.User_RequestedDeviceApproval,
          userId,
          organizationId: m.organization_id,
          organizationUserId: m.id,
        })),
      );
    });
    return {
      ...request,
      key: null,
      masterPasswordHash: null,
      approved: null,
      responseDeviceId: null,
      responseDate: null,
      authenticationDate: null,
    };
  }

  /** Pending admin-approval requests an organization's admins may answer (optionally only `ids`). */
  pendingForOrganization(
    organizationId: string,
    ids: readonly string[] | null = null,
  ): ReturnType<AuthRequestRepository['pendingAdminRequests']> {
    return this.requests.pendingAdminRequests(
      organizationId,
      new Date(Date.now() - ADMIN_REQUEST_LIFETIME_MS),
      ids === null ? null : ids.map((id) => id.toLowerCase()),
    );
  }

  /**
   * An admin's answer to an admin-approval request (the caller checked it is pending for the
   * admin's organization): approved with the user key wrapped to the request's public key, or
   * denied. Runs in the caller's transaction; false when it was answered meanwhile.
   */
  async answerAsAdmin(request: AuthRequest, approved: boolean, key: string | null): Promise<boolean> {
    if (approved && !key) throw badRequest('encryptedUserKey: The field is required.');
    return this.requests.answer(request.id, approved, approved ? key : null, null, null, new Date());
  }

  /** After the answer committed: the requesting user's waiting device hears of it, wherever it is connected. */
  announceAdminAnswer(request: AuthRequest): void {
    this.push.publish({
      type: PushType.AuthRequestResponse,
      userId: request.userId,
      contextId: null,
      payload: { Id: request.id, UserId: request.userId },
    });
  }

  /** The newest unanswered, unexpired request per requesting device. */
  async pending(userId: string): Promise<AuthRequest[]> {
    const rows = await this.requests.pendingForUser(userId, new Date(Date.now() - AUTH_REQUEST_LIFETIME_MS));
    const seen = new Set<string>();
    return rows.filter(
      (r) =>
        r.type !== AuthRequestType.AdminApproval &&
        !seen.has(r.requestDeviceIdentifier) &&
        seen.add(r.requestDeviceIdentifier),
    );
  }

  /** One of the user's own requests; another user's or an expired one is not found. */
  async get(userId: string, id: string): Promise<AuthRequest> {
    const request = isGuid(id) ? await this.requests.findById(id.toLowerCase()) : null;
    if (!request || request.userId !== userId || isExpired(request, Date.now())) throw notFound('Auth request');
    return request;
  }

  /** Anonymous, with the access code (compared in fixed time); a wrong code and an expired request are both 404. */
  async response(id: string, code: string | undefined): Promise<AuthRequest> {
    const request = isGuid(id) ? await this.requests.findById(id.toLowerCase()) : null;
    const ok = constantTimeEquals(request?.accessCode ?? '', code ?? '');
    if (!request || !code || !ok || isExpired(request, Date.now())) throw notFound('Auth request');
    return request;
  }

  /** Approve (with the user key encrypted to the request's public key) or deny, from a logged-in device. */
  async answer(userId: string, id: string, body: AuthRequestUpdate): Promise<AuthRequest> {
    const request = await this.get(userId, id);
    if (request.approved !== null) throw badRequest('An authentication request with the same device already exists.');
    const approver = await this.devices.findForUser(userId, body.deviceIdentifier);
    if (!approver) throw badRequest('Invalid device.');
    if (body.requestApproved) {
      if (!body.key) throw badRequest('key: The field is required.');
      const newest = (await this.pending(userId)).find(
        (r) => r.requestDeviceIdentifier === request.requestDeviceIdentifier,
      );
      if (newest?.id !== request.id)
        throw badRequest('This request is no longer valid. Make sure to approve the most recent request.');
    }
    const now = new Date();
    const key = body.requestApproved ? (body.key ?? null) : null;
    const hash = body.requestApproved ? (body.masterPasswordHash ?? null) : null;
    if (!(await this.requests.answer(request.id, body.requestApproved, key, hash, approver.id, now)))
      throw badRequest('An authentication request with the same device already exists.');
    // Delivered on the anonymous hub to the waiting device, wherever it is connected.
    this.push.publish({
      type: PushType.AuthRequestResponse,
      userId,
      contextId: approver.identifier,
      payload: { Id: request.id, UserId: userId },
    });
    return {
      ...request,
      approved: body.requestApproved,
      key,
      masterPasswordHash: hash,
      responseDeviceId: approver.id,
      responseDate: now,
    };
  }

  /**
   * The password grant with `authRequest`: true when the request is the user's, of type 0, approved,
   * unexpired, not used yet and the access code matches. Checks only; `completeLogin` uses it up.
   */
  async validForLogin(id: string, userId: string | null, accessCode: string): Promise<boolean> {
    const request = isGuid(id) ? await this.requests.findById(id.toLowerCase()) : null;
    const codeOk = constantTimeEquals(request?.accessCode ?? '', accessCode);
    return (
      request !== null &&
      codeOk &&
      request.userId === userId &&
      request.type === AuthRequestType.AuthenticateAndUnlock &&
      request.approved === true &&
      request.authenticationDate === null &&
      !isExpired(request, Date.now())
    );
  }

  /** Uses the request up; false when another login used it first. */
  completeLogin(id: string): Promise<boolean> {
    return this.requests.authenticate(id.toLowerCase(), new Date());
  }

  private async limit(key: string, limit: number, windowMs: number): Promise<void> {
    const decision = await this.cacheStore.rateLimiter.hit(key, limit, windowMs);
    if (!decision.allowed) throw rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  }
}
