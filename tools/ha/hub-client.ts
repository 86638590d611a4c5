/**
 * A live-sync client as Bitwarden's apps run it: the real @microsoft/signalr client over MessagePack on a
 * WebSocket, through nginx, reconnecting on its own when the connection drops or the server closes it with
 * allowReconnect (a draining instance). Records every push and every reconnect.
 */
import { readFileSync } from 'node:fs';
import { HttpTransportType, HubConnectionBuilder, LogLevel, type HubConnection } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import WebSocket, { type ClientOptions } from 'ws';

export interface Push {
  readonly Type: number;
  readonly Payload: Record<string, unknown>;
  readonly at: number;
}

export interface LiveClient {
  readonly connection: HubConnection;
  readonly pushes: Push[];
  /** Times the client lost its connection and got it back. */
  readonly reconnects: number;
  /** Resolves with the first push (from now on or already received) whose payload Id is `id`. */
  pushFor(id: string, timeoutMs: number): Promise<Push>;
  stop(): Promise<void>;
}

export async function connectLiveClient(baseUrl: string, caPath: string, token: string): Promise<LiveClient> {
  const ca = readFileSync(caPath);
  class TrustingWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[], options?: ClientOptions) {
      super(address, protocols, { ...options, ca });
    }
  }
  const connection = new HubConnectionBuilder()
    .withUrl(`${baseUrl}/notifications/hub`, {
      accessTokenFactory: () => token,
      skipNegotiation: true,
      transport: HttpTransportType.WebSockets,
      // The Node client takes the WebSocket constructor as an option its typings do not declare.
      ...({ WebSocket: TrustingWebSocket } as object),
    })
    // Retry at once, then every half second, for as long as a test lasts.
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (ctx) => (ctx.previousRetryCount === 0 ? 0 : 500) })
    .withHubProtocol(new MessagePackHubProtocol())
    .configureLogging(LogLevel.None)
    .build();
  const pushes: Push[] = [];
  const waiters = new Set<(p: Push) => void>();
  let reconnects = 0;
  connection.on('ReceiveMessage', (message: { Type: number; Payload: Record<string, unknown> }) => {
    const push = { Type: message.Type, Payload: message.Payload, at: Date.now() };
    pushes.push(push);
    for (const waiter of [...waiters]) waiter(push);
  });
  connection.onreconnected(() => {
    reconnects++;
  });
  await connection.start();
  return {
    connection,
    pushes,
    get reconnects() {
      return reconnects;
    },
    pushFor(id, timeoutMs) {
      const lower = id.toLowerCase();
      const matches = (p: Push): boolean => {
        const pushed = p.Payload['Id'];
        return typeof pushed === 'string' && pushed.toLowerCase() === lower;
      };
      const earlier = pushes.find(matches);
      if (earlier) return Promise.resolve(earlier);
      return new Promise((resolve, reject) => {
        const waiter = (p: Push): void => {
          if (!matches(p)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve(p);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no push for ${id} within ${String(timeoutMs)} ms (state ${connection.state})`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    stop: () => connection.stop(),
  };
}
