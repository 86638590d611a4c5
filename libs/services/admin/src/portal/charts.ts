import { esc } from './html';

/** A horizontal bar chart as inline SVG (no script, no external asset; colours come from the stylesheet). */
export function barChart(title: string, bars: readonly { label: string; value: number }[]): string {
  const width = 640;
  const rowHeight = 26;
  const labelWidth = 170;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = bars.length * rowHeight + 10;
  const rows = bars
    .map((b, i) => {
      const y = i * rowHeight + 5;
      const w = Math.round(((width - labelWidth - 60) * b.value) / max);
      return `<text x="0" y="${y + 16}">${esc(b.label)}</text><rect x="${labelWidth}" y="${y + 3}" width="${w}" height="${rowHeight - 8}"></rect><text x="${labelWidth + w + 6}" y="${y + 16}">${b.value}</text>`;
    })
    .join('');
  return `<figure><svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>${rows}</svg><figcaption>${esc(title)}</figcaption></figure>`;
}

/** Counts of ISO dates per month (`YYYY-MM`), the last `months` months, oldest first. */
export function perMonth(
  dates: readonly (string | null)[],
  months = 12,
  now = new Date(),
): { label: string; value: number }[] {
  const buckets: { label: string; value: number }[] = [];
  for (let i = months - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    buckets.push({ label: d.toISOString().slice(0, 7), value: 0 });
  }
  for (const iso of dates) {
    const bucket = iso ? buckets.find((b) => b.label === iso.slice(0, 7)) : undefined;
    if (bucket) bucket.value += 1;
  }
  return buckets;
}

/** Dormant accounts by how long they have been inactive. */
export function dormancyBuckets(days: readonly number[]): { label: string; value: number }[] {
  const ranges: [string, number, number][] = [
    ['< 90 days', 0, 90],
    ['90–179 days', 90, 180],
    ['180–364 days', 180, 365],
    ['1 year or more', 365, Infinity],
  ];
  return ranges.map(([label, from, to]) => ({ label, value: days.filter((d) => d >= from && d < to).length }));
}
