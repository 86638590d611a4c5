import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { lookup } from 'node:dns';
import type { LookupFunction } from 'node:net';

/**
 * `localhost` without a DNS lookup. Lookups run on libuv's thread pool (4 threads), which a suite's
 * client-side crypto (PBKDF2, RSA key generation for a dozen accounts at once) can fill for many
 * seconds on a busy machine: the request then times out before it has even connected.
 */
const lookupLocalhost: LookupFunction = (hostname, options, callback) => {
  if (hostname !== 'localhost') lookup(hostname, options, callback);
  else if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

export interface HttpResponse<T = unknown> {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly body: T;
  /** The body as received, for binary downloads (text is its UTF-8 reading). */
  readonly bytes: Buffer;
}

export interface RequestOptions {
  readonly json?: unknown;
  readonly form?: Record<string, string>;
  readonly rawBody?: string | Buffer;
  readonly contentType?: string;
  readonly token?: string;
  readonly headers?: Record<string, string>;
  /** false: keep the body as text (benchmarks time the transfer, not the client's JSON.parse). */
  readonly parse?: boolean;
}

/** A small HTTP(S) client that trusts a given CA file: the harness talks to the server as a client would. */
export class HttpClient {
  private readonly ca: Buffer | undefined;

  constructor(
    readonly baseUrl: string,
    caPath?: string,
  ) {
    this.ca = caPath ? readFileSync(caPath) : undefined;
  }

  request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const url = new URL(path, this.baseUrl);
    let payload: Buffer | undefined;
    const headers: Record<string, string> = {
      'device-type': '25',
      'bitwarden-client-name': 'keyhaven-tests',
      ...options.headers,
    };
    if (options.json !== undefined) {
      payload = Buffer.from(JSON.stringify(options.json));
      headers['content-type'] = 'application/json; charset=utf-8';
    } else if (options.form) {
      payload = Buffer.from(new URLSearchParams(options.form).toString());
      headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
    } else if (options.rawBody !== undefined) {
      payload = Buffer.from(options.rawBody);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    if (payload) headers['content-length'] = String(payload.length);
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        { method, headers, lookup: lookupLocalhost, ...(this.ca ? { ca: this.ca } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const bytes = Buffer.concat(chunks);
            const text = bytes.toString('utf8');
            let body: unknown = text;
            if (options.parse !== false && (res.headers['content-type'] ?? '').includes('json') && text.length > 0) {
              try {
                body = JSON.parse(text);
              } catch {
                body = text;
              }
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: body as T, bytes });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(payload);
    });
  }

  get<T = unknown>(path: string, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('GET', path, options);
  }
  post<T = unknown>(path: string, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('POST', path, options);
  }
  put<T = unknown>(path: string, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('PUT', path, options);
  }
  delete<T = unknown>(path: string, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('DELETE', path, options);
  }
}
