import { Injectable } from '@nestjs/common';
import { PushPublisher } from '@keyhaven/bus';
import { PushType, assertStorableText, notFound } from '@keyhaven/contracts';
import { AUTH_REQUEST_LIFETIME_MS } from '../auth-requests/auth-requests.service';
import { normalizeEmail } from '../users/user';
import { DeviceRepository, isTrusted, type Device } from './device.repository';

export function deviceJson(device: Device): Record<string, unknown> {
  return {
    id: device.id,
    name: device.name,
    type: device.type,
    identifier: device.identifier,
    creationDate: device.creationDate.toISOString(),
    revisionDate: device.revisionDate.toISOString(),
    lastActivityDate: device.lastActivityDate?.toISOString() ?? null,
    isTrusted: isTrusted(device),
    encryptedUserKey: device.encryptedUserKey,
    encryptedPublicKey: device.encryptedPublicKey,
    devicePendingAuthRequest: device.pendingAuthRequest
      ? { id: device.pendingAuthRequest.id, creationDate: device.pendingAuthRequest.creationDate.toISOString() }
      : null,
    object: 'device',
  };
}

/** The devices a user has logged in from (`api/devices`). */
@Injectable()
export class DevicesService {
  constructor(
    private readonly devices: DeviceRepository,
    private readonly push: PushPublisher,
  ) {}

  list(userId: string): Promise<Device[]> {
    return this.devices.listForUser(userId, new Date(Date.now() - AUTH_REQUEST_LIFETIME_MS));
  }

  /** Asked before login: the base64url email and the device identifier the client sends. */
  async isKnown(encodedEmail: string | undefined, identifier: string | undefined): Promise<boolean> {
    if (!encodedEmail || !identifier) return false;
    const email = Buffer.from(encodedEmail, 'base64url').toString('utf8');
    assertStorableText(email, 'X-Request-Email');
    return this.devices.knownByEmail(normalizeEmail(email), identifier);
  }

  async byIdentifier(userId: string, identifier: string): Promise<Device> {
    const device = await this.devices.findForUser(userId, identifier);
    if (!device) throw notFound('Device');
    return device;
  }

  /**
   * Deauthorises a device; its refresh tokens go with it, and its live clients are told to log out
   * (only that device's: the user's other clients stay signed in).
   */
  async deactivate(userId: string, id: string): Promise<void> {
    const identifier = await this.devices.deleteForUser(userId, id);
    if (identifier === null) throw notFound('Device');
    this.push.publish({
      type: PushType.LogOut,
      userId,
      contextId: null,
      payload: { UserId: userId, Date: new Date() },
      deviceIdentifier: identifier,
    });
  }
}
