import { sizeScore, type IconCandidate } from './candidates';

/** What a page says about its icons. */
export interface PageIcons {
  readonly icons: IconCandidate[];
  readonly manifest: string | null;
}

const MAX_TAG = 4096;
const ICON_RELS: Record<string, number> = {
  icon: 70,
  'shortcut icon': 65,
  'apple-touch-icon': 80,
  'apple-touch-icon-precomposed': 78,
  'fluid-icon': 60,
};

/**
 * Finds `<link rel=icon|shortcut icon|apple-touch-icon…>` and `<link rel=manifest>` in a page
 * (honouring `<base href>`). A linear scan with indexOf, never a backtracking regex over the page:
 * the page is hostile input and the event loop is shared.
 */
export function pageIcons(html: string, pageUrl: string): PageIcons {
  const headEnd = html.search(/<\/head\s*>/i);
  const head = (headEnd === -1 ? html : html.slice(0, headEnd)).toLowerCase();
  const source = headEnd === -1 ? html : html.slice(0, headEnd);
  let base = pageUrl;
  const icons: IconCandidate[] = [];
  let manifest: string | null = null;
  for (let at = head.indexOf('<'); at !== -1; at = head.indexOf('<', at + 1)) {
    const isLink = head.startsWith('<link', at) && /[\s/>]/.test(head.charAt(at + 5));
    const isBase = head.startsWith('<base', at) && /[\s/>]/.test(head.charAt(at + 5));
    if (!isLink && !isBase) continue;
    const end = head.indexOf('>', at);
    if (end === -1) break;
    if (end - at > MAX_TAG) continue;
    const attrs = attributes(source.slice(at + 5, end));
    const href = attrs.get('href');
    if (href === undefined || href === '') continue;
    if (isBase) {
      base = resolve(href, pageUrl) ?? base;
      continue;
    }
    const rel = (attrs.get('rel') ?? '').toLowerCase().trim().replace(/\s+/g, ' ');
    const url = resolve(href, base);
    if (!url) continue;
    if (rel === 'manifest') {
      manifest ??= url;
      continue;
    }
    const relScore = ICON_RELS[rel];
    if (relScore === undefined) continue;
    const type = attrs.get('type')?.toLowerCase();
    const fallback = type === 'image/svg+xml' || url.toLowerCase().endsWith('.svg') ? 85 : relScore;
    icons.push({ url, score: sizeScore(attrs.get('sizes'), fallback) });
  }
  return { icons, manifest };
}

/** Attributes of one tag (names lower-cased, common entities decoded). */
export function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  const pattern = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const m of tag.matchAll(pattern)) {
    const name = (m[1] ?? '').toLowerCase();
    if (!out.has(name)) out.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

function decodeEntities(value: string): string {
  return value
    .replace(/&#x([0-9a-f]{1,6});/gi, (_m, hex: string) => safeChar(parseInt(hex, 16)))
    .replace(/&#(\d{1,7});/g, (_m, dec: string) => safeChar(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function safeChar(code: number): string {
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
}

/** An absolute http(s) or data: URL, or null. */
export function resolve(href: string, base: string): string | null {
  try {
    const url = new URL(href.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'data:' ? url.toString() : null;
  } catch {
    return null;
  }
}
