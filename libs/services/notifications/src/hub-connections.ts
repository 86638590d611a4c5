import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  Optional,
  type OnModuleInit,
} from '@nestjs/common';
import { PushType, type PushMessage, type UsersPushMessage } from '@keyhaven/contracts';
import { UserRepository } from '@keyhaven/domain-auth';
import { Lifecycle } from '@keyhaven/http';
import { messagePackHubProtocol, type HubProtocol } from '@keyhaven/signalr';
import type { ConnectionEvents, HubConnection } from './hub-connection';
import { hubConnectionsGauge, hubDeliveries } from './hub-metrics';
import { HUB_SETTINGS, type HubSettings } from './hub-settings';

/** Push type 16, sent to the anonymous hub; not in PushType until the auth-request domain exists. */
export const AUTH_REQUEST_RESPONSE = 16;
export const RECEIVE_MESSAGE = 'ReceiveMessage';
/** Each keep-alive interval is cut into this many ticks, each pinging its share of the connections. */
const KEEPALIVE_SLICES = 15;

/** Users whose security stamps one statement of the periodic check reads. */
const STAMP_BATCH = 1000;
/** Spelled as the clients spell it. */
export const AUTH_REQUEST_RESPONSE_RECEIVED = 'AuthRequestResponseRecieved';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The bus carries JSON, so dates arrive as ISO strings; MessagePack clients get them back as the timestamp
 * extension, as Bitwarden's server sends them (the JSON protocol keeps the strings).
 */
function withDates(payload: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    out[key] = typeof value === 'string' && key.endsWith('Date') && ISO_DATE.test(value) ? new Date(value) : value;
  }
  return out;
}

/** One push, encoded at most once per protocol however many connections receive it. */
class Frames {
  private readonly cache = new Map<HubProtocol, Buffer>();

  constructor(
    private readonly target: string,
    private readonly argument: { ContextId: string | null; Type: number; Payload: Record<string, unknown> },
  ) {}

  for(protocol: HubProtocol): Buffer {
    let frame = this.cache.get(protocol);
    if (!frame) {
      const argument =
        protocol === messagePackHubProtocol
          ? { ...this.argument, Payload: withDates(this.argument.Payload) }
          : this.argument;
      frame = protocol.invocation(this.target, [argument]);
      this.cache.set(protocol, frame);
    }
    return frame;
  }
}

function addTo<K>(map: Map<K, Set<HubConnection>>, key: K, connection: HubConnection): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(connection);
}

function removeFrom<K>(map: Map<K, Set<HubConnection>>, key: K, connection: HubConnection): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(connection);
  if (set.size === 0) map.delete(key);
}

/**
 * This instance's live connections, indexed by user and by pending login request, and the delivery of
 * pushes to them. Also the timers every connection shares: the keep-alive ping and the security-stamp check.
 */
@Injectable()
export class HubConnections
  implements ConnectionEvents, OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('notifications');
  private readonly connections = new Set<HubConnection>();
  private readonly byUser = new Map<string, Set<HubConnection>>();
  private readonly byAuthRequest = new Map<string, Set<HubConnection>>();
  private keepAlive: NodeJS.Timeout | undefined;
  private readonly slices = Array.from({ length: KEEPALIVE_SLICES }, () => new Set<HubConnection>());
  private readonly sliceOf = new WeakMap<HubConnection, Set<HubConnection>>();
  private nextSlice = 0;
  private added = 0;
  private stampCheck: NodeJS.Timeout | undefined;
  private checkingStamps = false;

  constructor(
    @Inject(HUB_SETTINGS) private readonly settings: HubSettings,
    private readonly users: UserRepository,
    @Optional() private readonly lifecycle?: Lifecycle,
  ) {}

  onModuleInit(): void {
    // The listener has closed (SIGTERM): clients reconnect now, through the load balancer to another instance,
    // rather than when the process is gone.
    this.lifecycle?.onClosed(() => {
      this.closeAll();
    });
    // The pings go out a slice at a time, so 10,000 connections never mean 10,000 sends in one turn of the loop.
    this.keepAlive = setInterval(() => {
      const now = Date.now();
      const slice = this.slices[this.nextSlice];
      this.nextSlice = (this.nextSlice + 1) % KEEPALIVE_SLICES;
      if (slice) for (const connection of [...slice]) connection.tick(now);
    }, this.settings.keepAliveMs / KEEPALIVE_SLICES);
    this.keepAlive.unref();
    this.stampCheck = setInterval(() => {
      void this.checkStamps();
    }, this.settings.stampCheckMs);
    this.stampCheck.unref();
  }

  /** Shutting down: every client is told it may reconnect (to another instance) before the sockets go. */
  beforeApplicationShutdown(): void {
    this.closeAll();
  }

  /** SignalR's close message with allowReconnect, so the clients connect again (elsewhere) at once. */
  private closeAll(): void {
    for (const connection of [...this.connections]) connection.close(null, true, 'shutdown');
  }

  onApplicationShutdown(): void {
    clearInterval(this.keepAlive);
    clearInterval(this.stampCheck);
  }

  /** Connections that completed the handshake. */
  get size(): number {
    return this.connections.size;
  }

  ready(connection: HubConnection): void {
    this.connections.add(connection);
    const slice = this.slices[this.added++ % KEEPALIVE_SLICES];
    if (slice) {
      slice.add(connection);
      this.sliceOf.set(connection, slice);
    }
    const { identity } = connection;
    if (identity.kind === 'user') addTo(this.byUser, identity.userId, connection);
    else addTo(this.byAuthRequest, identity.authRequestId, connection);
    hubConnectionsGauge.inc({ hub: identity.kind });
  }

  closed(connection: HubConnection): void {
    if (!this.connections.delete(connection)) return;
    this.sliceOf.get(connection)?.delete(connection);
    const { identity } = connection;
    if (identity.kind === 'user') removeFrom(this.byUser, identity.userId, connection);
    else removeFrom(this.byAuthRequest, identity.authRequestId, connection);
    hubConnectionsGauge.dec({ hub: identity.kind });
  }

  /** Delivers one push from the bus to the connections on this instance it concerns. */
  deliver(push: PushMessage): number {
    const argument = { ContextId: push.contextId, Type: push.type, Payload: push.payload };
    if (push.type === AUTH_REQUEST_RESPONSE) {
      const id = push.payload['Id'];
      const waiting = typeof id === 'string' ? this.byAuthRequest.get(id.toLowerCase()) : undefined;
      return waiting ? this.sendAll(waiting, new Frames(AUTH_REQUEST_RESPONSE_RECEIVED, argument)) : 0;
    }
    const all = this.byUser.get(push.userId);
    if (!all) return 0;
    const connections = push.deviceIdentifier === undefined ? all : onDevice(all, push.deviceIdentifier);
    const sent = this.sendAll(connections, new Frames(RECEIVE_MESSAGE, argument));
    // Logged out: every token of this user is dead; the clients reconnect once they have new ones.
    if (push.type === PushType.LogOut) for (const c of [...connections]) c.close(null, false);
    return sent;
  }

  /**
   * A change for many users: each of them connected here gets the shared payload (encoded once for all of
   * them), or without one `{ UserId, Date }`, as from a single-user push.
   */
  deliverToUsers(push: UsersPushMessage): number {
    let sent = 0;
    if (push.payload) {
      const frames = new Frames(RECEIVE_MESSAGE, { ContextId: push.contextId, Type: push.type, Payload: push.payload });
      for (const userId of push.userIds) {
        const connections = this.byUser.get(userId);
        if (connections) sent += this.sendAll(connections, frames);
      }
      return sent;
    }
    for (const userId of push.userIds) {
      if (!this.byUser.has(userId)) continue;
      sent += this.deliver({
        type: push.type,
        userId,
        contextId: push.contextId,
        payload: { UserId: userId, Date: push.date },
      });
    }
    return sent;
  }

  private sendAll(connections: Set<HubConnection>, frames: Frames): number {
    let sent = 0;
    // A copy: a slow consumer dropped while sending leaves the set.
    for (const connection of [...connections]) {
      if (connection.protocol && connection.send(frames.for(connection.protocol))) sent++;
    }
    hubDeliveries.inc(sent);
    return sent;
  }

  /**
   * A user whose security stamp changed ("log out everywhere", password or KDF change) holds only dead
   * tokens: their connections get LogOut and are closed, even if no LogOut push was published.
   */
  async checkStamps(): Promise<void> {
    if (this.checkingStamps) return;
    this.checkingStamps = true;
    try {
      // A statement per STAMP_BATCH users, one after the other: 10,000 users are a handful of queries,
      // and a sweep never takes more than one database connection.
      const userIds = [...this.byUser.keys()];
      for (let i = 0; i < userIds.length; i += STAMP_BATCH) {
        const batch = userIds.slice(i, i + STAMP_BATCH);
        const stamps = await this.users.securityStampsOf(batch);
        for (const userId of batch) this.logOutStale(userId, stamps.get(userId) ?? null);
      }
    } catch (error) {
      this.logger.warn(`security stamp check failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.checkingStamps = false;
    }
  }

  /** Connections of the user issued under another stamp (or the user is gone or disabled) get LogOut and close. */
  private logOutStale(userId: string, stamp: string | null): void {
    const connections = this.byUser.get(userId);
    if (!connections) return;
    const stale = [...connections].filter((c) => c.identity.kind === 'user' && c.identity.stamp !== stamp);
    if (stale.length === 0) return;
    const frames = new Frames(RECEIVE_MESSAGE, {
      ContextId: null,
      Type: PushType.LogOut,
      Payload: { UserId: userId, Date: new Date().toISOString() },
    });
    for (const connection of stale) {
      if (connection.protocol) connection.send(frames.for(connection.protocol));
      connection.close(null, false);
    }
  }
}

/** The connections whose token was issued to the given device. */
function onDevice(connections: Set<HubConnection>, deviceIdentifier: string): Set<HubConnection> {
  const matching = new Set<HubConnection>();
  for (const connection of connections) {
    const { identity } = connection;
    if (identity.kind === 'user' && identity.deviceIdentifier === deviceIdentifier) matching.add(connection);
  }
  return matching;
}
