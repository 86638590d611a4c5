import type { Sharp } from 'sharp';
import type sharpFactory from 'sharp';
import { decodeIco, isIco } from './ico';
import { looksLikeSvg, sanitizeSvg } from './svg';

/** Icons are served at most this wide and high (clients draw them at 16–32 CSS px, ×2 on dense screens). */
export const ICON_SIZE = 64;
/** Decompression bombs: sharp refuses inputs with more pixels than this. */
const MAX_INPUT_PIXELS = 4096 * 4096;

type Format = 'png' | 'jpeg' | 'gif' | 'webp' | 'ico' | 'svg';

type SharpFactory = typeof sharpFactory;
let loading: Promise<SharpFactory> | undefined;

/**
 * sharp (libvips) is loaded at the first icon to decode, not at boot: most all-in-one processes serve
 * icons from the cache or never, and the native library is a large share of an idle process's memory.
 */
function loadSharp(): Promise<SharpFactory> {
  const pending = loading ?? import('sharp').then((module) => module.default);
  loading = pending;
  return pending;
}

export function sniffFormat(data: Buffer): Format | null {
  if (data.length >= 8 && data.readUInt32BE(0) === 0x89504e47) return 'png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg';
  if (data.length >= 6 && data.subarray(0, 4).toString('latin1') === 'GIF8') return 'gif';
  if (data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') {
    return 'webp';
  }
  if (isIco(data)) return 'ico';
  if (looksLikeSvg(data)) return 'svg';
  return null;
}

/**
 * Any supported image as a PNG of at most ICON_SIZE px a side, or null when it is not one we can read.
 * sharp does the decoding and scaling off the event loop; only the ICO directory and BMP entries are
 * read here (small and bounded).
 */
export async function normalizeIcon(data: Buffer): Promise<Buffer | null> {
  try {
    const input = await toSharp(data);
    if (!input) return null;
    return await input
      .resize(ICON_SIZE, ICON_SIZE, { fit: 'inside', withoutEnlargement: true })
      .png({ compressionLevel: 9 })
      .toBuffer();
  } catch {
    return null;
  }
}

async function toSharp(data: Buffer): Promise<Sharp | null> {
  const sharp = await loadSharp();
  const options = { limitInputPixels: MAX_INPUT_PIXELS, animated: false, failOn: 'error' } as const;
  switch (sniffFormat(data)) {
    case 'png':
    case 'jpeg':
    case 'gif':
    case 'webp':
      return sharp(data, options);
    case 'ico': {
      const image = decodeIco(data, ICON_SIZE);
      if (!image) return null;
      if (image.kind === 'png') return sharp(image.data, options);
      return sharp(image.data, { ...options, raw: { width: image.width, height: image.height, channels: 4 } });
    }
    case 'svg': {
      const svg = sanitizeSvg(data);
      if (!svg) return null;
      // Render at the density that makes the longer side ICON_SIZE, not at the SVG's nominal size.
      const meta = await sharp(svg, options).metadata();
      const longest = Math.max(meta.width, meta.height, 1);
      const density = Math.min(2400, Math.max(1, (72 * ICON_SIZE) / longest));
      return sharp(svg, { ...options, density });
    }
    case null:
      return null;
  }
}
