import { Agent, errors, request, type Dispatcher } from 'undici';
import { AddressPolicy } from './address-policy';
import { OutboundError } from './outbound-errors';
import { pinnedConnector, systemResolver, type ConnectRoute, type Resolver } from './pinned-connector';

export interface GuardedFetchSettings {
  /** CIDRs opened despite the address policy (tests, internal deployments); metadata stays closed. */
  readonly allowNetworks?: readonly string[];
  /** Fixed routes by `host` or `host:port` (tests); the policy still judges the routed address. */
  readonly routes?: ReadonlyMap<string, ConnectRoute>;
  readonly resolve?: Resolver;
  readonly connectTimeoutMs?: number;
  /** Longest wait for the response headers, and between two body chunks. */
  readonly readTimeoutMs?: number;
  /** Whole request, redirects and body included. */
  readonly totalTimeoutMs?: number;
  readonly maxBytes?: number;
  readonly userAgent?: string;
}

export interface OutboundRequest {
  readonly method?: 'GET' | 'HEAD' | 'POST' | 'PUT';
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Overrides the fetcher's cap for this call. */
  readonly maxBytes?: number;
  readonly totalTimeoutMs?: number;
  /** At most 5 (and at most the default, 5); 0 returns the redirect response itself. */
  readonly maxRedirects?: number;
  readonly signal?: AbortSignal;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The URL of the hop that answered (after redirects). */
  readonly url: string;
}

export const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that must not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * The one way the server talks to hosts it does not operate (icons, webhooks): every connection
 * goes through the pinned connector (address policy on the resolved address), redirects are
 * followed by hand so every hop is checked again, and timeouts and the size cap are enforced while
 * the response streams in, never after.
 */
export class GuardedFetcher {
  private readonly agent: Agent;
  private readonly readTimeoutMs: number;
  private readonly totalTimeoutMs: number;
  private readonly maxBytes: number;
  private readonly userAgent: string;

  constructor(settings: GuardedFetchSettings = {}) {
    const connectTimeoutMs = settings.connectTimeoutMs ?? 5000;
    this.readTimeoutMs = settings.readTimeoutMs ?? 10000;
    this.totalTimeoutMs = settings.totalTimeoutMs ?? 20000;
    this.maxBytes = settings.maxBytes ?? 5 * 1024 * 1024;
    this.userAgent = settings.userAgent ?? 'Keyhaven';
    this.agent = new Agent({
      connect: pinnedConnector({
        policy: new AddressPolicy(settings.allowNetworks ?? []),
        resolve: settings.resolve ?? systemResolver,
        connectTimeoutMs,
        routes: settings.routes ?? new Map(),
      }),
      headersTimeout: this.readTimeoutMs,
      bodyTimeout: this.readTimeoutMs,
      keepAliveTimeout: 4000,
      connections: 8,
    });
  }

  async fetch(url: string | URL, init: OutboundRequest = {}): Promise<OutboundResponse> {
    const deadline = AbortSignal.timeout(init.totalTimeoutMs ?? this.totalTimeoutMs);
    const signal = init.signal ? AbortSignal.any([deadline, init.signal]) : deadline;
    const maxRedirects = Math.min(init.maxRedirects ?? MAX_REDIRECTS, MAX_REDIRECTS);
    const maxBytes = init.maxBytes ?? this.maxBytes;
    let target = parseTarget(url);
    let method: string = init.method ?? 'GET';
    let body = init.body;
    let headers: Record<string, string> = { 'user-agent': this.userAgent, ...lowerKeys(init.headers ?? {}) };
    try {
      for (let hop = 0; ; hop++) {
        const response = await request(target, {
          dispatcher: this.agent,
          method: method,
          headers,
          body,
          signal,
        });
        const location = header(response.headers, 'location');
        if (REDIRECTS.has(response.statusCode) && location !== undefined && maxRedirects > 0) {
          discard(response);
          if (hop >= maxRedirects)
            throw new OutboundError('redirects', `more than ${maxRedirects} redirects from ${target.host}`);
          const next = parseTarget(new URL(location, target));
          if (response.statusCode === 303 || (response.statusCode <= 302 && method === 'POST')) {
            method = 'GET';
            body = undefined;
          }
          if (next.origin !== target.origin) headers = withoutCredentials(headers);
          target = next;
          continue;
        }
        const bytes = await readCapped(response, maxBytes, target.host);
        return { status: response.statusCode, headers: response.headers, body: bytes, url: target.toString() };
      }
    } catch (err) {
      throw classify(err, target.host, signal);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function parseTarget(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OutboundError('invalid-url', 'not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new OutboundError('invalid-url', `scheme ${parsed.protocol} is not fetched`);
  }
  if (parsed.username !== '' || parsed.password !== '') throw new OutboundError('invalid-url', 'credentials in URL');
  return parsed;
}

/** Reads the body, stopping (and closing the connection) as soon as it passes the cap. */
async function readCapped(response: Dispatcher.ResponseData, maxBytes: number, host: string): Promise<Buffer> {
  const declared = Number(header(response.headers, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    discard(response);
    throw new OutboundError('too-large', `response from ${host} is larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      discard(response);
      throw new OutboundError('too-large', `response from ${host} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** `signal` is the deadline combined with the caller's: either running out is a timeout. */
function classify(err: unknown, host: string, signal: AbortSignal): OutboundError {
  if (err instanceof OutboundError) return err;
  if (err instanceof Error && err.cause instanceof OutboundError) return err.cause;
  if (signal.aborted) return new OutboundError('timeout', `request to ${host} took too long`, { cause: err });
  if (
    err instanceof errors.ConnectTimeoutError ||
    err instanceof errors.HeadersTimeoutError ||
    err instanceof errors.BodyTimeoutError
  ) {
    return new OutboundError('timeout', `request to ${host} timed out`, { cause: err });
  }
  return new OutboundError('network', `request to ${host} failed`, { cause: err });
}

/** Closes a body we will not read; its abort must not surface as an unhandled stream error. */
function discard(response: Dispatcher.ResponseData): void {
  response.body.on('error', () => undefined);
  response.body.destroy();
}

function header(headers: OutboundResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.includes(k)));
}
