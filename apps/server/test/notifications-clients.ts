import { readFileSync } from 'node:fs';
import {
  HttpClient as SignalRHttpClient,
  HttpResponse as SignalRHttpResponse,
  HttpTransportType,
  HubConnectionBuilder,
  LogLevel,
  type HttpRequest as SignalRHttpRequest,
  type IHttpConnectionOptions,
  type HubConnection,
} from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import WebSocket, { type ClientOptions } from 'ws';
import { HttpClient } from '@keyhaven/testing';

/** What the hub sends as the argument of `ReceiveMessage` / `AuthRequestResponseRecieved`. */
export interface Notification {
  readonly ContextId: string | null;
  readonly Type: number;
  readonly Payload: Record<string, unknown>;
}

export type Protocol = 'json' | 'messagepack';
export const PROTOCOLS: readonly Protocol[] = ['json', 'messagepack'];

/** `ws` trusting the test server's CA; the SignalR client takes the WebSocket constructor as an option. */
export function trustingWebSocket(caPath: string | undefined): typeof WebSocket {
  const ca = caPath ? readFileSync(caPath) : undefined;
  class TrustingWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[], options?: ClientOptions) {
      super(address, protocols, { ...options, ...(ca ? { ca } : {}) });
    }
  }
  return TrustingWebSocket as unknown as typeof WebSocket;
}

/** The SignalR client's HTTP (negotiate) through the harness client, which trusts the CA. */
class HarnessHttpClient extends SignalRHttpClient {
  constructor(private readonly http: HttpClient) {
    super();
  }

  async send(request: SignalRHttpRequest): Promise<SignalRHttpResponse> {
    const url = new URL(request.url ?? '');
    const res = await this.http.request(request.method ?? 'GET', url.pathname + url.search, {
      headers: Object.fromEntries(Object.entries(request.headers ?? {}).filter(([k]) => k !== 'Authorization')),
      ...(request.headers?.['Authorization']
        ? { token: request.headers['Authorization'].replace(/^Bearer /, '') }
        : {}),
      ...(typeof request.content === 'string' ? { rawBody: request.content } : {}),
      parse: false,
    });
    return new SignalRHttpResponse(res.status, '', res.text);
  }
}

export interface HubClient {
  readonly connection: HubConnection;
  readonly received: Notification[];
  readonly closed: Promise<Error | undefined>;
  /** Resolves with the first received message that matches, or rejects after `timeoutMs`. */
  next(match: (n: Notification) => boolean, timeoutMs?: number): Promise<{ message: Notification; at: number }>;
  stop(): Promise<void>;
}

export interface ConnectOptions {
  readonly baseUrl: string;
  readonly caPath: string | undefined;
  readonly protocol: Protocol;
  /** Sent as the Authorization header by the SignalR client (Node); omit for the anonymous hub. */
  readonly token?: string;
  /** Put the token in the `access_token` query parameter instead, as browsers do. */
  readonly tokenInQuery?: boolean;
  /** `hub` or `anonymous-hub?Token=…` */
  readonly path?: string;
  /** Negotiate first (POST …/negotiate) instead of skipping it as Bitwarden's clients do. */
  readonly negotiate?: boolean;
}

/** The real @microsoft/signalr client, over JSON or MessagePack, as Bitwarden's clients configure it. */
export async function connectHub(options: ConnectOptions): Promise<HubClient> {
  const path = options.path ?? 'hub';
  let url = `${options.baseUrl}/notifications/${path}`;
  if (options.token && options.tokenInQuery) {
    url += `${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(options.token)}`;
  }
  const token = options.token;
  // The Node client takes the WebSocket constructor as an option its typings do not declare.
  const httpOptions: IHttpConnectionOptions & { WebSocket: unknown } = {
    ...(token && !options.tokenInQuery ? { accessTokenFactory: () => token } : {}),
    skipNegotiation: !options.negotiate,
    transport: HttpTransportType.WebSockets,
    WebSocket: trustingWebSocket(options.caPath),
    ...(options.negotiate
      ? { httpClient: new HarnessHttpClient(new HttpClient(options.baseUrl, options.caPath)) }
      : {}),
  };
  const builder = new HubConnectionBuilder().withUrl(url, httpOptions).configureLogging(LogLevel.None);
  if (options.protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol());
  const connection = builder.build();
  const received: Notification[] = [];
  const waiters: { match: (n: Notification) => boolean; done: (m: { message: Notification; at: number }) => void }[] =
    [];
  const onMessage = (message: Notification): void => {
    const at = Date.now();
    received.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.match(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.done({ message, at });
      }
    }
  };
  connection.on('ReceiveMessage', onMessage);
  connection.on('AuthRequestResponseRecieved', onMessage);
  const closed = new Promise<Error | undefined>((resolve) => {
    connection.onclose((error) => {
      resolve(error);
    });
  });
  await connection.start();
  return {
    connection,
    received,
    closed,
    next(match, timeoutMs = 5000) {
      const earlier = received.find(match);
      if (earlier) return Promise.resolve({ message: earlier, at: Date.now() });
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          done: (m: { message: Notification; at: number }) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(received)}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    stop: () => connection.stop(),
  };
}

export interface RawSocket {
  readonly socket: WebSocket;
  readonly messages: Buffer[];
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** A bare WebSocket to a hub (for input no client library would send); rejects with the HTTP status on refusal. */
export function rawSocket(
  baseUrl: string,
  caPath: string | undefined,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawSocket> {
  const Trusting = trustingWebSocket(caPath);
  const socket = new Trusting(`${baseUrl.replace(/^http/, 'ws')}/notifications/${path}`, undefined, { headers });
  const messages: Buffer[] = [];
  socket.on('message', (data: Buffer) => messages.push(data));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
    });
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      resolve({ socket, messages, closed });
    });
    socket.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      socket.terminate();
    });
    socket.once('error', (error) => {
      reject(error);
    });
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_resolve, reject) =>
      setTimeout(() => {
        reject(new Error(`${what}: not within ${ms} ms`));
      }, ms).unref(),
    ),
  ]);
}

/** The user id (`sub`) of an access token. */
export function subjectOf(token: string): string {
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string };
  return claims.sub;
}
