import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database } from '@keyhaven/db';
import { PushPublisher } from '@keyhaven/bus';
import { PushType, badRequest, isWellFormedEncString, notFound } from '@keyhaven/contracts';
import { AccountsService } from '../accounts/accounts.service';
import { DeviceRepository, isTrusted, type Device } from './device.repository';

const encString = (types: RegExp, what: string) =>
  z
    .string()
    .max(20_000)
    .refine((v) => isWellFormedEncString(v) && types.test(v), { message: `must be ${what}` });
/** The user key wrapped to the device public key (RSA). */
const rsaWrapped = encString(/^[346]\./, 'an RSA-encrypted key');
/** Keys under a symmetric key (the user key, or the 64-byte device key). */
const symWrapped = encString(/^2\./, 'a symmetric-encrypted key');

export const deviceKeysSchema = z.object({
  encryptedUserKey: rsaWrapped,
  encryptedPublicKey: symWrapped,
  encryptedPrivateKey: symWrapped,
});

const rewrapped = z.object({ encryptedPublicKey: symWrapped, encryptedUserKey: rsaWrapped });
export const updateTrustSchema = z.object({
  masterPasswordHash: z.string().max(1000).nullish(),
  otp: z.string().max(100).nullish(),
  currentDevice: rewrapped.nullish(),
  otherDevices: z
    .array(rewrapped.extend({ deviceId: z.string().max(100) }))
    .max(1000)
    .nullish(),
});

export const untrustSchema = z.object({ devices: z.array(z.string().max(100)).max(1000) });

/** The exact-case `TrustedDeviceOption` of the token response's `UserDecryptionOptions`. */
export interface TrustedDeviceOption {
  HasAdminApproval: boolean;
  HasLoginApprovingDevice: boolean;
  HasManageResetPasswordPermission: boolean;
  IsTdeOffboarding: boolean;
  EncryptedPrivateKey?: string;
  EncryptedUserKey?: string;
}

/** Manage-reset-password holders: Owner (0), Admin (1), or Custom (4) with the flag; not revoked. */
const MANAGES_RESET_PASSWORD = `status >= 0 AND (type IN (0, 1) OR (type = 4 AND (permissions ->> 'manageResetPassword')::boolean))`;

/**
 * Trusted device encryption, server side: the wrapped keys a device stores when the user trusts
 * it, their re-wrapping on key rotation, untrusting, and what the SSO token response tells a device
 * about how it may decrypt. The server never sees the keys themselves.
 */
@Injectable()
export class DeviceTrustService {
  constructor(
    private readonly db: Database,
    private readonly devices: DeviceRepository,
    private readonly accounts: AccountsService,
    private readonly push: PushPublisher,
  ) {}

  /** `PUT api/devices/{identifier}/keys`: this device is trusted from now on. */
  async setKeys(userId: string, identifier: string, keys: z.infer<typeof deviceKeysSchema>): Promise<Device> {
    const device = await this.devices.setKeys(userId, identifier, keys);
    if (!device) throw notFound('Device');
    this.changed(userId, identifier);
    return device;
  }

  /** Key rotation: re-wrapped keys for the current device and the other trusted ones, after the password. */
  async updateTrust(
    userId: string,
    currentIdentifier: string | undefined,
    body: z.infer<typeof updateTrustSchema>,
  ): Promise<void> {
    try {
      await this.accounts.verifyMasterPassword(userId, body.masterPasswordHash);
    } catch {
      throw badRequest('User verification failed.');
    }
    await this.db.transaction(async () => {
      if (body.currentDevice) {
        if (!currentIdentifier) throw badRequest('Please provide a device identifier.');
        const current = await this.devices.findForUser(userId, currentIdentifier);
        if (!current || !isTrusted(current)) throw badRequest('Current device is not trusted.');
        await this.devices.rewrapKeys(userId, 'identifier', [{ key: currentIdentifier, ...body.currentDevice }]);
      }
      const others = (body.otherDevices ?? []).map((d) => ({ key: d.deviceId.toLowerCase(), ...d }));
      await this.devices.rewrapKeys(userId, 'id', others);
    });
    this.changed(userId, currentIdentifier ?? null);
  }

  /** `POST api/devices/untrust`: the listed devices (row ids) of the user lose their keys. */
  async untrust(userId: string, deviceIds: readonly string[], actingIdentifier: string | null): Promise<void> {
    const cleared = await this.devices.clearKeys(
      userId,
      'id',
      deviceIds.map((id) => id.toLowerCase()),
    );
    if (cleared.length > 0) this.changed(userId, actingIdentifier);
  }

  /** `POST api/devices/lost-trust`: the client holds no device key any more; forget its wrapped keys. */
  async lostTrust(userId: string, identifier: string | undefined): Promise<void> {
    if (!identifier) throw badRequest('Please provide a device identifier.');
    await this.devices.clearKeys(userId, 'identifier', [identifier]);
    this.changed(userId, identifier);
  }

  /** This device's wrapped keys when it is trusted. */
  async deviceKeys(
    userId: string,
    deviceIdentifier: string | null,
  ): Promise<{ encryptedPrivateKey: string; encryptedUserKey: string } | null> {
    const device = deviceIdentifier ? await this.devices.findForUser(userId, deviceIdentifier) : null;
    if (!device || !isTrusted(device) || !device.encryptedPrivateKey || !device.encryptedUserKey) return null;
    return { encryptedPrivateKey: device.encryptedPrivateKey, encryptedUserKey: device.encryptedUserKey };
  }

  /** True when the user has another device of a type that can approve a login. */
  hasLoginApprovingDevice(userId: string, exceptDeviceIdentifier: string | null): Promise<boolean> {
    return this.devices.hasApprovingDevice(userId, exceptDeviceIdentifier);
  }

  /**
   * The SSO token response's port (`TRUSTED_DEVICE_OPTIONS`): the `TrustedDeviceOption` for a login through an SSO organization using trusted devices (or a
   * user without master password on a still-trusted device): this device's wrapped keys when it is
   * trusted, and which ways of approving a new device the user has.
   */
  async trustedDeviceOption(input: {
    userId: string;
    deviceIdentifier: string | null;
    organizationId: string;
    isTdeOffboarding?: boolean;
  }): Promise<TrustedDeviceOption> {
    const device = input.deviceIdentifier ? await this.devices.findForUser(input.userId, input.deviceIdentifier) : null;
    const [membership] = await this.db.rows<{ enrolled: boolean; manages: boolean }>(
      `SELECT reset_password_key IS NOT NULL AS enrolled, (${MANAGES_RESET_PASSWORD}) AS manages
       FROM organization_user WHERE organization_id = $1 AND user_id = $2`,
      [input.organizationId, input.userId],
    );
    const trusted = device !== null && isTrusted(device);
    return {
      HasAdminApproval: membership?.enrolled === true,
      HasLoginApprovingDevice: await this.devices.hasApprovingDevice(input.userId, input.deviceIdentifier),
      HasManageResetPasswordPermission: membership?.manages === true,
      IsTdeOffboarding: input.isTdeOffboarding ?? false,
      ...(trusted && device.encryptedPrivateKey && device.encryptedUserKey
        ? { EncryptedPrivateKey: device.encryptedPrivateKey, EncryptedUserKey: device.encryptedUserKey }
        : {}),
    };
  }

  /** The user's other clients refresh their device list (the web vault shows which devices are trusted). */
  private changed(userId: string, actingIdentifier: string | null): void {
    this.push.publish({
      type: PushType.SyncSettings,
      userId,
      contextId: actingIdentifier,
      payload: { UserId: userId, Date: new Date() },
    });
  }
}

export function protectedDeviceJson(device: Device): Record<string, unknown> {
  return {
    id: device.id,
    name: device.name,
    type: device.type,
    identifier: device.identifier,
    creationDate: device.creationDate.toISOString(),
    encryptedUserKey: device.encryptedUserKey,
    encryptedPublicKey: device.encryptedPublicKey,
    object: 'protectedDevice',
  };
}
