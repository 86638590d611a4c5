import { z } from 'zod';

// The notifications hub: its SignalR connections, their limits and how their liveness is checked.

export const notificationsShape = {
  /** Notifications hub (the all-in-one and the notifications app): open hub connections per client IP. */
  NOTIFICATIONS_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(1000),
  /** Open anonymous-hub (login with device) connections per client IP. */
  NOTIFICATIONS_ANONYMOUS_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(20),
  /** Largest message a client may send (handshake included); larger closes the connection. */
  NOTIFICATIONS_MAX_MESSAGE_BYTES: z.coerce.number().int().min(256).max(1048576).default(4096),
  /** A connection that has not completed the SignalR handshake by then is closed. */
  NOTIFICATIONS_HANDSHAKE_TIMEOUT_MS: z.coerce.number().int().min(100).default(15000),
  /** The server pings every connection this often (clients give up after 30 s of silence). */
  NOTIFICATIONS_KEEPALIVE_MS: z.coerce.number().int().min(100).default(15000),
  /** A client that sends nothing (its pings included) for this long is closed. */
  NOTIFICATIONS_CLIENT_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30000),
  /** A connection with more unsent bytes than this is too slow and is closed instead of buffered. */
  NOTIFICATIONS_MAX_BUFFERED_BYTES: z.coerce.number().int().min(1024).default(262144),
  /** How often the hub re-reads the security stamps of its users, closing connections whose stamp changed. */
  NOTIFICATIONS_STAMP_CHECK_MS: z.coerce.number().int().min(100).default(60000),
};
