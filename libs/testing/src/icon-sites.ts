import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

export type SiteHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void;

/**
 * Websites for the icon tests: one local HTTP server answering for many names by Host header (the
 * server under test reaches them through OUTBOUND_CONNECT_TO), logging every request and counting
 * connections, so a test can prove how many fetches (or none) a site saw.
 */
export class IconSites {
  readonly requests: { host: string; path: string }[] = [];
  connections = 0;
  private readonly sites = new Map<string, SiteHandler>();
  private server?: Server;

  constructor(private readonly address = '127.0.0.1') {}

  site(host: string, handler: SiteHandler): this {
    this.sites.set(host, handler);
    return this;
  }

  async start(): Promise<number> {
    this.server = createServer((req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
      const path = req.url ?? '/';
      this.requests.push({ host, path });
      const handler = this.sites.get(host) ?? this.sites.get('*');
      if (handler) handler(req, res, path);
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    this.server.on('connection', () => this.connections++);
    await new Promise<void>((done) => this.server?.listen(0, this.address, done));
    return this.port;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  /** `name=address:port` entries for OUTBOUND_CONNECT_TO. */
  routes(names: readonly string[]): string {
    const address = this.address.includes(':') ? `[${this.address}]` : this.address;
    return names.map((n) => `${n}=${address}:${this.port}`).join(',');
  }

  hits(host: string, path?: string): number {
    return this.requests.filter((r) => r.host === host && (path === undefined || r.path === path)).length;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((done) =>
      server.close(() => {
        done();
      }),
    );
  }
}

export function html(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(body);
}

export function bytes(res: ServerResponse, type: string, body: Buffer): void {
  res.writeHead(200, { 'content-type': type, 'content-length': String(body.length) });
  res.end(body);
}

export interface IconResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** GET with the body as bytes (the shared HttpClient decodes text). */
export function getBytes(baseUrl: string, path: string, caPath?: string): Promise<IconResponse> {
  const url = new URL(path, baseUrl);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const ca = caPath ? readFileSync(caPath) : undefined;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'GET', family: 4, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}
