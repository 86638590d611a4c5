import { sizeScore, type IconCandidate } from './candidates';
import { resolve } from './html-icons';

/** Icons listed in a web app manifest (`icons: [{src, sizes, type, purpose}]`), relative to the manifest. */
export function manifestIcons(json: string, manifestUrl: string): IconCandidate[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  const icons = (parsed as { icons?: unknown } | null)?.icons;
  if (!Array.isArray(icons)) return [];
  const out: IconCandidate[] = [];
  for (const icon of icons.slice(0, 50) as unknown[]) {
    if (typeof icon !== 'object' || icon === null) continue;
    const { src, sizes, type, purpose } = icon as Record<string, unknown>;
    if (typeof src !== 'string') continue;
    const url = resolve(src, manifestUrl);
    if (!url) continue;
    const svg = type === 'image/svg+xml' || url.toLowerCase().endsWith('.svg');
    // Maskable and monochrome icons are drawn for a platform's mask: a plain one looks better.
    const penalty = typeof purpose === 'string' && !/\bany\b/.test(purpose) ? 15 : 0;
    out.push({ url, score: sizeScore(typeof sizes === 'string' ? sizes : undefined, svg ? 85 : 70) - 5 - penalty });
  }
  return out;
}
