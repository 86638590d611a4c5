import type { Agent } from 'undici';
import { CliError, EXIT } from '../context';

export interface ApiResponse<T> {
  readonly status: number;
  readonly body: T;
}

/** How often a 429 (the server's per-user import and sync budgets) is waited out before giving up. */
const MAX_RETRIES = 8;

/**
 * The HTTP side of a client: JSON in and out, the bearer token, and the server's rate limits honoured
 * (Retry-After) instead of failing the whole run. Error bodies are summarised, never echoed whole: they
 * could quote the request.
 */
export class VaultApi {
  // undici (the package) only for --insecure: loading it costs more start-up time than the built-in fetch.
  private readonly dispatcher: Promise<Agent> | undefined;
  token: string | null = null;

  constructor(
    readonly baseUrl: string,
    insecure = false,
  ) {
    this.dispatcher = insecure
      ? import('undici').then(({ Agent }) => new Agent({ connect: { rejectUnauthorized: false } }))
      : undefined;
  }

  url(path: string): string {
    return `${this.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  async request<T>(
    method: string,
    path: string,
    options: { json?: unknown; form?: Record<string, string>; body?: FormData; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'device-type': '25',
      'bitwarden-client-name': 'cli',
      'bitwarden-client-version': '2026.9.0',
      ...options.headers,
    };
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    let body: string | FormData | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json; charset=utf-8';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
      body = new URLSearchParams(options.form).toString();
    } else if (options.body) {
      body = options.body;
    }
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(this.url(path), {
          method,
          headers,
          ...(body !== undefined ? { body } : {}),
          ...(this.dispatcher ? { dispatcher: await this.dispatcher } : {}),
        } as RequestInit);
      } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
        throw new CliError(`cannot reach ${this.baseUrl}${cause}`, EXIT.failure);
      }
      const text = await response.text();
      if (response.status === 429 && attempt < MAX_RETRIES) {
        const wait = Math.min(60, Number(response.headers.get('retry-after') ?? '1') || 1);
        await new Promise((r) => setTimeout(r, wait * 1000));
        continue;
      }
      let parsed: unknown = null;
      if (text.length > 0) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      return { status: response.status, body: parsed as T };
    }
  }

  /** A request that must succeed (2xx); anything else stops the command with the server's message. */
  async ok<T>(method: string, path: string, options: Parameters<VaultApi['request']>[2] = {}): Promise<T> {
    const response = await this.request<T>(method, path, options);
    if (response.status < 200 || response.status >= 300) {
      throw new CliError(`${method} ${path.split('?')[0] ?? path}: ${describeError(response)}`, EXIT.failure);
    }
    return response.body;
  }

  async download(url: string): Promise<Buffer> {
    const response = await fetch(url, {
      ...(this.dispatcher ? { dispatcher: await this.dispatcher } : {}),
    } as RequestInit);
    if (!response.ok) throw new Error(`attachment download answered ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }
}

/** The server's own message (Bitwarden's error shape or OAuth's), short. */
export function describeError(response: ApiResponse<unknown>): string {
  const body = response.body as Record<string, unknown> | string | null;
  let message = '';
  if (typeof body === 'string') message = body.slice(0, 200);
  else if (body) {
    const model = (body['ErrorModel'] ?? body['errorModel']) as Record<string, unknown> | undefined;
    const first = [model?.['Message'], body['message'], body['error_description'], body['Message'], body['error']].find(
      (v): v is string => typeof v === 'string',
    );
    message = (first ?? '').slice(0, 200);
  }
  return `${response.status}${message ? ` ${message}` : ''}`;
}
