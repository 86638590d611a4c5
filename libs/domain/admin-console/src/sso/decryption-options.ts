/**
 * What the token response of an SSO login (`authorization_code` grant) needs beyond the user row,
 * supplied by the trusted-device / Key Connector code through these ports so that the SSO flow does
 * not own device keys or the Key Connector. Both are optional: without them a TDE organization gets
 * a TrustedDeviceOption without device keys, and Key Connector the URL stored in the configuration.
 */

/** Builds the exact-case `TrustedDeviceOption` of ENTERPRISE.md §3.1 for this login. */
export interface TrustedDeviceOptions {
  trustedDeviceOption(login: {
    userId: string;
    deviceIdentifier: string | null;
    organizationId: string;
  }): Promise<Record<string, unknown>>;
}
export const TRUSTED_DEVICE_OPTIONS = Symbol('TRUSTED_DEVICE_OPTIONS');

/** Where the clients fetch the Key Connector key: the configured URL, or Keyhaven's own when it hosts one. */
export interface KeyConnectorLocator {
  /** Takes only the stored URL field, so readers that never open the sealed secrets can ask too. */
  urlFor(config: { readonly data: { readonly keyConnectorUrl?: string | null } }): string | null;
}
export const KEY_CONNECTOR_LOCATOR = Symbol('KEY_CONNECTOR_LOCATOR');
