import { type GuardedFetcher, OutboundError, type OutboundResponse } from '@keyhaven/outbound';
import { normalizeIcon } from '../decode/normalize';
import { rank, type IconCandidate } from './candidates';
import { pageIcons } from './html-icons';
import { manifestIcons } from './manifest-icons';

export interface FinderLimits {
  /** The whole lookup (page, manifest, images). */
  readonly timeoutMs: number;
  readonly maxImageBytes: number;
}

const MAX_PAGE_BYTES = 512 * 1024;
const MAX_MANIFEST_BYTES = 128 * 1024;
/** Images tried at most per site before giving up (each a request to the site). */
const MAX_IMAGE_ATTEMPTS = 4;

/**
 * Finds a site's best icon: the page's `<link>` icons, else its web manifest's, then `/favicon.ico`,
 * each fetched through the guarded fetch and kept only if it decodes. Returns the normalised PNG, or
 * null when the site has none (or is unreachable, slow, or refused by the address policy).
 */
export class IconFinder {
  constructor(
    private readonly fetcher: GuardedFetcher,
    private readonly limits: FinderLimits,
  ) {}

  async find(host: string): Promise<Buffer | null> {
    const signal = AbortSignal.timeout(this.limits.timeoutMs);
    const page = await this.page(host, signal);
    if (!page) return null;
    const found = page.status === 200 && isHtml(page) ? pageIcons(page.body.toString('utf8'), page.url) : null;
    const candidates: IconCandidate[] = [...(found?.icons ?? [])];
    if (candidates.length === 0 && found?.manifest) {
      const manifest = await this.get(found.manifest, MAX_MANIFEST_BYTES, signal);
      if (manifest?.status === 200) candidates.push(...manifestIcons(manifest.body.toString('utf8'), manifest.url));
    }
    candidates.push({ url: new URL('/favicon.ico', page.url).toString(), score: 10 });
    for (const candidate of rank(candidates).slice(0, MAX_IMAGE_ATTEMPTS)) {
      if (signal.aborted) return null;
      const bytes = await this.image(candidate.url, signal);
      const png = bytes ? await normalizeIcon(bytes) : null;
      if (png) return png;
    }
    return null;
  }

  /** The home page over HTTPS, else plain HTTP; null when neither answers (or the host is refused). */
  private async page(host: string, signal: AbortSignal): Promise<OutboundResponse | null> {
    for (const scheme of ['https', 'http']) {
      try {
        return await this.fetcher.fetch(`${scheme}://${host}/`, {
          maxBytes: MAX_PAGE_BYTES,
          signal,
          headers: { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.5' },
        });
      } catch (err) {
        // A refused address or an exhausted budget is final; anything else may work over plain HTTP.
        if (!(err instanceof OutboundError) || err.failure === 'blocked' || signal.aborted) return null;
      }
    }
    return null;
  }

  private async image(url: string, signal: AbortSignal): Promise<Buffer | null> {
    if (url.startsWith('data:')) return dataUrl(url, this.limits.maxImageBytes);
    const response = await this.get(url, this.limits.maxImageBytes, signal);
    return response?.status === 200 ? response.body : null;
  }

  private async get(url: string, maxBytes: number, signal: AbortSignal): Promise<OutboundResponse | null> {
    try {
      return await this.fetcher.fetch(url, { maxBytes, signal });
    } catch (err) {
      if (err instanceof OutboundError) return null;
      throw err;
    }
  }
}

function isHtml(response: OutboundResponse): boolean {
  const type = response.headers['content-type'];
  const value = (Array.isArray(type) ? type[0] : type) ?? '';
  return value === '' || /html/i.test(value);
}

/** An inline `data:` icon (no fetch at all); base64 or percent-encoded. */
function dataUrl(url: string, maxBytes: number): Buffer | null {
  const comma = url.indexOf(',');
  if (comma === -1 || url.length > maxBytes * 2) return null;
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  try {
    const bytes = meta.endsWith(';base64') ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload));
    return bytes.length <= maxBytes ? bytes : null;
  } catch {
    return null;
  }
}
