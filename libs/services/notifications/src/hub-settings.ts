import type { KeyhavenConfig } from '@keyhaven/config';

/** The hub's limits, read once from configuration (README, "Notifications hub"). */
export interface HubSettings {
  readonly connectionsPerIp: number;
  readonly anonymousConnectionsPerIp: number;
  readonly maxMessageBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly keepAliveMs: number;
  readonly clientTimeoutMs: number;
  readonly maxBufferedBytes: number;
  readonly stampCheckMs: number;
  readonly trustProxy: boolean;
}

export const HUB_SETTINGS = Symbol('HUB_SETTINGS');

export function hubSettings(config: KeyhavenConfig): HubSettings {
  return {
    connectionsPerIp: config.NOTIFICATIONS_CONNECTIONS_PER_IP,
    anonymousConnectionsPerIp: config.NOTIFICATIONS_ANONYMOUS_CONNECTIONS_PER_IP,
    maxMessageBytes: config.NOTIFICATIONS_MAX_MESSAGE_BYTES,
    handshakeTimeoutMs: config.NOTIFICATIONS_HANDSHAKE_TIMEOUT_MS,
    keepAliveMs: config.NOTIFICATIONS_KEEPALIVE_MS,
    clientTimeoutMs: config.NOTIFICATIONS_CLIENT_TIMEOUT_MS,
    maxBufferedBytes: config.NOTIFICATIONS_MAX_BUFFERED_BYTES,
    stampCheckMs: config.NOTIFICATIONS_STAMP_CHECK_MS,
    trustProxy: config.TRUST_PROXY,
  };
}

/** The two hubs, at the paths the clients derive from the server URL. */
export const HUB_PATH = '/notifications/hub';
export const ANONYMOUS_HUB_PATH = '/notifications/anonymous-hub';
