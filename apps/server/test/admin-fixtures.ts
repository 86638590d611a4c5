import assert from 'node:assert/strict';
import type { HttpClient, HttpResponse } from '@keyhaven/testing';

/**
 * The admin service as a script and as a browser use it. Every request names its client address in
 * X-Forwarded-For (the suite's server trusts the proxy), so each test has its own rate-limit bucket.
 */
export class AdminClient {
  constructor(
    readonly http: HttpClient,
    readonly token: string,
    readonly ip: string,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'x-forwarded-for': this.ip, ...extra };
  }

  get<T = unknown>(path: string): Promise<HttpResponse<T>> {
    return this.http.request<T>('GET', `/admin/${path}`, { token: this.token, headers: this.headers() });
  }

  post<T = unknown>(path: string, json?: unknown): Promise<HttpResponse<T>> {
    return this.http.request<T>('POST', `/admin/${path}`, {
      token: this.token,
      headers: this.headers(),
      ...(json === undefined ? {} : { json }),
    });
  }

  /** Logs in through the portal's form as a browser does; answers the session cookie header and a page's CSRF token. */
  async portalLogin(): Promise<{ cookie: string; csrf: string }> {
    const form = await this.http.request<string>('GET', '/admin/login', { headers: this.headers() });
    assert.equal(form.status, 200);
    const loginCookie = cookiePair(form.headers['set-cookie'], 'keyhaven_admin_login');
    const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? '';
    const login = await this.http.request('POST', '/admin/login', {
      headers: this.headers({ cookie: loginCookie }),
      form: { _csrf: loginCsrf, token: this.token },
    });
    assert.equal(login.status, 303, login.text);
    const cookie = cookiePair(login.headers['set-cookie'], 'keyhaven_admin');
    const users = await this.http.request<string>('GET', '/admin/portal/users', { headers: this.headers({ cookie }) });
    assert.equal(users.status, 200, users.text);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(users.text)?.[1] ?? '';
    assert.ok(csrf.length > 20);
    return { cookie, csrf };
  }
}

/** `name=value` of the named cookie among Set-Cookie headers. */
export function cookiePair(header: string | string[] | undefined, name: string): string {
  const all = Array.isArray(header) ? header : header ? [header] : [];
  const found = all.find((c) => c.startsWith(`${name}=`));
  if (!found) throw new Error(`no ${name} cookie in ${JSON.stringify(all)}`);
  return found.split(';')[0] ?? '';
}

export function setCookie(header: string | string[] | undefined, name: string): string {
  const all = Array.isArray(header) ? header : header ? [header] : [];
  return all.find((c) => c.startsWith(`${name}=`)) ?? '';
}
