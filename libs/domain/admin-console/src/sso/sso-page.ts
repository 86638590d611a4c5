import type { SsoPageResult } from './sso-login.service';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The HTTP answer for a browser step of the SSO flow: a 302, a hand-off page, or a plain error page. */
export function ssoHttpResponse(result: SsoPageResult): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  switch (result.kind) {
    case 'redirect':
      return { status: 302, headers: { location: result.url }, body: '' };
    case 'html':
      return {
        status: 200,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          // The hand-off pages post or navigate on load; nothing else is allowed.
          'content-security-policy':
            "default-src 'none'; script-src 'unsafe-inline'; form-action *; frame-ancestors 'none'",
        },
        body: result.html,
      };
    case 'error':
      return {
        status: result.status,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Single sign-on failed</title></head><body><h1>Single sign-on failed</h1><p>${escapeHtml(result.message)}</p></body></html>`,
      };
  }
}
