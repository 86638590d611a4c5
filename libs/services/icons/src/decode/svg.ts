/**
 * SVG is rasterised by sharp (librsvg) from a buffer. librsvg already refuses network URLs without a
 * base file, but an icon must never make the server fetch anything, so everything that can reference
 * another resource is removed first: DOCTYPEs (external entities), processing instructions
 * (`<?xml-stylesheet?>`), scripts, foreignObject, `@import`, and every href/src/url() that is not a
 * same-document `#fragment` or an inline `data:image/…` of a raster type.
 */

const MAX_SVG_BYTES = 256 * 1024;

export function looksLikeSvg(data: Buffer): boolean {
  const head = data
    .subarray(0, 2048)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return (
    /^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE[^>]*>\s*)?<svg[\s>]/i.test(head) || /<svg[\s>]/i.test(head)
  );
}

const SAFE_REFERENCE = /^\s*(#|data:image\/(png|jpeg|gif|webp);base64,)/i;

/** Constructs that are refused outright rather than rewritten (rare in icons, risky to rewrite). */
const REFUSED = ['<script', '<foreignobject', '<!entity', '<?xml-stylesheet', '<iframe', '<embed', '<object'];

/**
 * The SVG source with every external reference removed; null when it is too large or uses something
 * refused. Only linear scans here: the input is hostile and the event loop is shared.
 */
export function sanitizeSvg(data: Buffer): Buffer | null {
  if (data.length > MAX_SVG_BYTES) return null;
  let svg = data.toString('utf8');
  const lower = svg.toLowerCase();
  if (REFUSED.some((tag) => lower.includes(tag))) return null;
  if (count(lower, '<style') !== count(lower, '</style')) return null;
  const cleaned = withoutDoctype(svg);
  if (cleaned === null) return null;
  svg = cleaned.replace(/<style\b([^>]*)>([\s\S]*?)<\/style\s*>/gi, (_m, attrs: string, css: string) => {
    return `<style${attrs}>${sanitizeCss(css)}</style>`;
  });
  // Attributes: href/xlink:href/src, and any attribute value using url(…).
  svg = svg.replace(
    /\s([a-z_:][-a-z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*')/gi,
    (whole: string, name: string, quoted: string) => {
      const value = quoted.slice(1, -1);
      const attr = name.toLowerCase();
      if (attr === 'href' || attr.endsWith(':href') || attr === 'src') return SAFE_REFERENCE.test(value) ? whole : '';
      if (attr === 'style') return ` ${name}=${quoted[0]}${sanitizeCss(value)}${quoted[0]}`;
      if (/url\s*\(/i.test(value) && !/^\s*url\(\s*['"]?#/i.test(value)) return '';
      return whole;
    },
  );
  return Buffer.from(svg, 'utf8');
}

function count(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** Drops `<!DOCTYPE …>` declarations (external DTDs); one with an internal subset is refused (entities). */
function withoutDoctype(svg: string): string | null {
  for (let i = 0; i < 3; i++) {
    const start = svg.search(/<!doctype/i);
    if (start === -1) return svg;
    const end = svg.indexOf('>', start);
    if (end === -1 || svg.slice(start, end).includes('[')) return null;
    svg = svg.slice(0, start) + svg.slice(end + 1);
  }
  return null;
}

function sanitizeCss(css: string): string {
  return css
    .replace(/@import[^;]*;?/gi, '')
    .replace(/url\s*\(\s*(['"]?)([^)'"]*)\1\s*\)/gi, (whole: string, _q: string, target: string) =>
      target.trim().startsWith('#') ? whole : 'none',
    );
}
