/** The portal's pages load only what Keyhaven serves itself: no inline script or style, no CDN. */
export const PORTAL_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Every value that reaches a page goes through this (emails and names are user-chosen). */
export function esc(value: unknown): string {
  if (value === null || value === undefined) return '';
  return (typeof value === 'string' ? value : JSON.stringify(value)).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

export type PortalSection = 'users' | 'organizations' | 'events' | 'reports' | 'billing' | 'diagnostics';

const SECTIONS: readonly [PortalSection, string][] = [
  ['users', 'Users'],
  ['organizations', 'Organizations'],
  ['events', 'Events'],
  ['reports', 'Reports'],
  ['billing', 'Billing'],
  ['diagnostics', 'Diagnostics'],
];

export interface PageOptions {
  readonly title: string;
  readonly section?: PortalSection;
  readonly csrf?: string;
  readonly flash?: string | null;
  readonly body: string;
}

export function page(options: PageOptions): string {
  const nav = options.csrf
    ? `<nav aria-label="Sections"><ul>${SECTIONS.map(
        ([key, label]) =>
          `<li><a href="/admin/portal/${key}"${key === options.section ? ' aria-current="page"' : ''}>${label}</a></li>`,
      ).join('')}</ul>${form('/admin/logout', options.csrf, 'Log out', { className: 'link' })}</nav>`
    : '';
  const flash = options.flash ? `<p class="flash" role="status">${esc(options.flash)}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(options.title)} · Keyhaven admin</title>
<link rel="stylesheet" href="/admin/assets/portal.css"><script src="/admin/assets/portal.js" defer></script></head>
<body><header><span class="brand">Keyhaven admin</span>${nav}</header>
<main id="main"><h1>${esc(options.title)}</h1>${flash}${options.body}</main></body></html>`;
}

/** A one-button POST form carrying the session's CSRF token; `confirm` asks before a destructive action. */
export function form(
  action: string,
  csrf: string,
  label: string,
  options: { confirm?: string; className?: string; fields?: Record<string, string> } = {},
): string {
  const extra = Object.entries(options.fields ?? {})
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  const confirm = options.confirm ? ` data-confirm="${esc(options.confirm)}"` : '';
  const cls = options.className ? ` class="${esc(options.className)}"` : '';
  return `<form method="post" action="${esc(action)}"${confirm}><input type="hidden" name="_csrf" value="${esc(csrf)}">${extra}<button type="submit"${cls}>${esc(label)}</button></form>`;
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[], caption: string): string {
  if (rows.length === 0) return `<p class="empty">Nothing to show.</p>`;
  return `<table><caption>${esc(caption)}</caption><thead><tr>${headers.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export const ROLE_NAMES: Record<number, string> = { 0: 'Owner', 1: 'Admin', 2: 'User', 4: 'Custom' };
export const STATUS_NAMES: Record<number, string> = { [-1]: 'Revoked', 0: 'Invited', 1: 'Accepted', 2: 'Confirmed' };

export const date = (iso: string | null): string => (iso ? esc(iso.slice(0, 16).replace('T', ' ')) : '—');
