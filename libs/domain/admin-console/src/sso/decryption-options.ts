import type { SsoConfig } from './sso-config';

/**
 * What the token response of an SSO login (`authorization_code` grant) needs beyond the user row,
 * supplied by the trusted-device / Key Connector code through these ports so that the SSO flow does
 * not own device keys or the Key Connector. Both are optional: without them TDE answers no device
 * keys and Key Connector answers the URL stored in the configuration.
 */

/** The requesting device's trust material and the user's other devices (auth's `device` table). */
export interface TrustedDeviceKeys {
  /** The device's keys when it is trusted (all three of ENTERPRISE.md §3.1 set), else null. */
  deviceKeys(
    userId: string,
    deviceIdentifier: string | null,
  ): Promise<{ encryptedPrivateKey: string; encryptedUserKey: string } | null>;
  /** True when the user has another device of a desktop, mobile, web or browser type. */
  hasLoginApprovingDevice(userId: string, exceptDeviceIdentifier: string | null): Promise<boolean>;
}
export const TRUSTED_DEVICE_KEYS = Symbol('TRUSTED_DEVICE_KEYS');

/** Where the clients fetch the Key Connector key: the configured URL, or Keyhaven's own when it hosts one. */
export interface KeyConnectorLocator {
  urlFor(config: SsoConfig): string | null;
}
export const KEY_CONNECTOR_LOCATOR = Symbol('KEY_CONNECTOR_LOCATOR');
