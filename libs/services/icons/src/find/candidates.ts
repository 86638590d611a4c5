/** A place an icon may be found, with how promising it looks (higher first). */
export interface IconCandidate {
  readonly url: string;
  readonly score: number;
}

const IDEAL = 64;

/** Scores a declared size: at or a bit above the served size is best, far above or below less so. */
export function sizeScore(sizes: string | undefined, fallback: number): number {
  if (!sizes) return fallback;
  if (/\bany\b/i.test(sizes)) return 90; // scalable (SVG)
  let best = 0;
  for (const match of sizes.matchAll(/(\d{1,5})x(\d{1,5})/gi)) {
    const side = Math.min(Number(match[1]), Number(match[2]));
    if (side === 0) continue;
    const distance = Math.abs(Math.log2(side / IDEAL));
    // Larger than ideal scales down well; smaller looks blurry, so it costs twice as much.
    const score = 100 - (side >= IDEAL ? distance * 8 : distance * 20);
    best = Math.max(best, score);
  }
  return best > 0 ? best : fallback;
}

/** Sorted best first, duplicates (same URL) dropped keeping the best score. */
export function rank(candidates: readonly IconCandidate[]): IconCandidate[] {
  const best = new Map<string, IconCandidate>();
  for (const c of candidates) {
    const seen = best.get(c.url);
    if (!seen || seen.score < c.score) best.set(c.url, c);
  }
  return [...best.values()].sort((a, b) => b.score - a.score);
}
