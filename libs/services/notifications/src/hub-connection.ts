import type { WebSocket } from 'ws';
import {
  FramingError,
  MessageType,
  handshakeResponse,
  hubProtocolNamed,
  parseHandshake,
  type HubProtocol,
} from '@keyhaven/signalr';
import { hubClosures } from './hub-metrics';
import type { HubSettings } from './hub-settings';

/** Who is on the other end: a signed-in user's client, or a device waiting for its login request. */
export type HubIdentity =
  | {
      readonly kind: 'user';
      readonly userId: string;
      /** The security stamp the access token was issued under. */
      readonly stamp: string;
      /** When the access token expires (ms since the epoch). */
      readonly expiresAt: number;
      /** The `deviceIdentifier` the token was issued to, for pushes addressed to one device. */
      readonly deviceIdentifier?: string | null;
    }
  | { readonly kind: 'anonymous'; readonly authRequestId: string };

/** WebSocket close codes used here. */
export const CloseCode = { Normal: 1000, PolicyViolation: 1008, GoingAway: 1001 } as const;

/** Messages a client may send in one keep-alive interval before it is treated as a flood. */
const MAX_MESSAGES_PER_INTERVAL = 200;

const EMPTY = new Uint8Array(0);

export interface ConnectionEvents {
  /** The handshake succeeded: the connection may now receive messages. */
  ready(connection: HubConnection): void;
  closed(connection: HubConnection): void;
}

/**
 * One client connection: the SignalR handshake, the messages the client sends (pings, close), and every
 * way it ends — handshake timeout, bad input, a token that expires, a client gone silent, a send buffer
 * that grows past its limit. Everything it sends goes through `send`, which never buffers past the limit.
 */
export class HubConnection {
  protocol: HubProtocol | null = null;
  private pending: Uint8Array = EMPTY;
  private lastReceived = Date.now();
  private receivedInInterval = 0;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    readonly socket: WebSocket,
    readonly identity: HubIdentity,
    private readonly settings: HubSettings,
    private readonly events: ConnectionEvents,
  ) {
    this.handshakeTimer = setTimeout(() => {
      this.abort('handshake timeout');
    }, settings.handshakeTimeoutMs).unref();
    if (identity.kind === 'user') {
      // Past ~24.8 days a timer fires at once; tokens live an hour, so cap it rather than overflow.
      const delay = Math.min(Math.max(0, identity.expiresAt - Date.now()), 2 ** 31 - 1);
      this.expiryTimer = setTimeout(() => {
        this.close('Access token expired.', true);
      }, delay).unref();
    }
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      this.receive(data);
    });
    socket.on('close', () => {
      this.cleanUp();
    });
    // Errors (oversized frames, resets) end in 'close'; without a listener they would crash the process.
    socket.on('error', () => undefined);
  }

  get open(): boolean {
    return !this.ended;
  }

  /** Sends a prepared frame; a client that cannot keep up is dropped, never buffered without bound. */
  send(frame: Buffer): boolean {
    if (this.ended || !this.protocol) return false;
    if (this.socket.bufferedAmount + frame.length > this.settings.maxBufferedBytes) {
      hubClosures.inc({ reason: 'slow consumer' });
      this.terminate();
      return false;
    }
    this.socket.send(frame, { binary: this.protocol.binary });
    return true;
  }

  /** Sends the protocol's close message, then closes the WebSocket. */
  close(error: string | null, allowReconnect: boolean, reason = error ?? 'logged out'): void {
    if (this.ended) return;
    hubClosures.inc({ reason });
    if (this.protocol) this.send(this.protocol.close(error, allowReconnect));
    this.finish(CloseCode.Normal, error ?? '');
  }

  /** The keep-alive tick: a ping, unless the client has gone silent or stopped reading. */
  tick(now: number): void {
    if (this.ended || !this.protocol) return;
    this.receivedInInterval = 0;
    if (now - this.lastReceived > this.settings.clientTimeoutMs) {
      this.close('Server timeout elapsed without receiving a message from the client.', true);
      return;
    }
    this.send(this.protocol.ping());
  }

  private receive(data: Buffer | ArrayBuffer | Buffer[]): void {
    if (this.ended) return;
    this.lastReceived = Date.now();
    if (++this.receivedInInterval > MAX_MESSAGES_PER_INTERVAL) {
      this.abort('too many messages');
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    try {
      if (!this.protocol) {
        this.handshake(bytes);
        return;
      }
      this.handleMessages(bytes);
    } catch (error) {
      this.abort(error instanceof FramingError ? error.message : 'bad input');
    }
  }

  private handshake(bytes: Uint8Array): void {
    const parsed = parseHandshake(Buffer.concat([this.pending, bytes]), this.settings.maxMessageBytes);
    if (!parsed) {
      this.pending = Buffer.concat([this.pending, bytes]);
      return;
    }
    this.pending = EMPTY;
    const { protocol: name, version } = parsed.request;
    const protocol = hubProtocolNamed(name);
    const refusal = !protocol
      ? `The protocol '${name}' is not supported.`
      : version !== 1
        ? `The server does not support version ${version} of the '${name}' protocol.`
        : undefined;
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    if (!protocol || refusal !== undefined) {
      this.socket.send(handshakeResponse(refusal), { binary: false });
      this.finish(CloseCode.PolicyViolation, 'handshake refused');
      return;
    }
    this.protocol = protocol;
    this.socket.send(handshakeResponse(), { binary: protocol.binary });
    this.events.ready(this);
    if (parsed.rest.length > 0) this.handleMessages(parsed.rest);
  }

  private handleMessages(bytes: Uint8Array): void {
    if (!this.protocol) return;
    const { messages, rest } = this.protocol.parse(this.pending, bytes, this.settings.maxMessageBytes);
    this.pending = rest;
    for (const message of messages) {
      // Pings only refresh lastReceived; the hub has no methods to invoke, so invocations are ignored.
      if (message.type === MessageType.Close) {
        this.finish(CloseCode.Normal, '');
        return;
      }
    }
  }

  /** Bad input: a close message with an error where the protocol is known, then the socket goes. */
  private abort(reason: string): void {
    if (this.ended) return;
    hubClosures.inc({ reason });
    if (this.protocol) this.send(this.protocol.close('Connection closed with an error.', false));
    this.finish(CloseCode.PolicyViolation, reason);
  }

  private terminate(): void {
    if (this.ended) return;
    this.cleanUp();
    this.socket.terminate();
  }

  private finish(code: number, reason: string): void {
    this.cleanUp();
    // A close reason is limited to 123 bytes.
    this.socket.close(code, reason.slice(0, 120));
    // A peer that never answers the close handshake is cut off rather than held for ws's 30 s.
    setTimeout(() => {
      this.socket.terminate();
    }, 5000).unref();
  }

  private cleanUp(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.expiryTimer);
    this.pending = EMPTY;
    this.events.closed(this);
  }
}
