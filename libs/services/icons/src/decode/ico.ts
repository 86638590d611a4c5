/**
 * ICO files (sharp/libvips cannot read them): a directory of images, each either a whole PNG or a
 * headerless BMP (a DIB whose height counts the XOR bitmap and the AND mask). We pick one entry and
 * hand sharp either the PNG bytes or raw RGBA pixels decoded here.
 */

export interface IcoEntry {
  readonly width: number;
  readonly height: number;
  readonly bitCount: number;
  readonly offset: number;
  readonly size: number;
}

export type IcoImage =
  | { readonly kind: 'png'; readonly data: Buffer }
  | { readonly kind: 'rgba'; readonly data: Buffer; readonly width: number; readonly height: number };

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
/** Larger entries are not worth decoding for a ≤64 px icon (and bound the work a hostile file causes). */
const MAX_SIDE = 256;

export function isIco(data: Buffer): boolean {
  return data.length >= 6 && data.readUInt16LE(0) === 0 && (data.readUInt16LE(2) === 1 || data.readUInt16LE(2) === 2);
}

/** The directory, entries that point outside the file dropped. */
export function icoEntries(data: Buffer): IcoEntry[] {
  if (!isIco(data)) return [];
  const count = data.readUInt16LE(4);
  const entries: IcoEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = 6 + i * 16;
    if (at + 16 > data.length) break;
    const entry = {
      width: data.readUInt8(at) || 256,
      height: data.readUInt8(at + 1) || 256,
      bitCount: data.readUInt16LE(at + 6),
      size: data.readUInt32LE(at + 8),
      offset: data.readUInt32LE(at + 12),
    };
    if (entry.size > 0 && entry.offset >= 6 && entry.offset + entry.size <= data.length) entries.push(entry);
  }
  return entries;
}

/**
 * The best entry for a small icon: the smallest one at least `target` px wide (sharper when scaled
 * down than a smaller one scaled up), else the largest; ties go to the deeper colour.
 */
export function bestIcoEntry(entries: readonly IcoEntry[], target: number): IcoEntry | undefined {
  const usable = entries.filter((e) => e.width <= MAX_SIDE && e.height <= MAX_SIDE);
  const score = (e: IcoEntry): number => (e.width >= target ? 100000 - e.width : e.width) * 64 + e.bitCount;
  return [...usable].sort((a, b) => score(b) - score(a))[0];
}

/** Decodes the chosen entry; null when the file or the entry is malformed or in an unsupported depth. */
export function decodeIco(data: Buffer, target: number): IcoImage | null {
  const entry = bestIcoEntry(icoEntries(data), target);
  if (!entry) return null;
  const bytes = data.subarray(entry.offset, entry.offset + entry.size);
  if (bytes.subarray(0, 4).equals(PNG_MAGIC)) return { kind: 'png', data: Buffer.from(bytes) };
  return decodeDib(bytes);
}

/** A BITMAPINFOHEADER DIB as stored in ICO: bottom-up rows, 1/4/8/24/32 bpp, then a 1-bpp AND mask. */
export function decodeDib(dib: Buffer): IcoImage | null {
  if (dib.length < 40) return null;
  const headerSize = dib.readUInt32LE(0);
  const width = dib.readInt32LE(4);
  const height = Math.floor(dib.readInt32LE(8) / 2); // XOR + AND halves
  const bitCount = dib.readUInt16LE(14);
  const compression = dib.readUInt32LE(16);
  if (headerSize < 40 || width <= 0 || height <= 0 || width > MAX_SIDE || height > MAX_SIDE) return null;
  if (compression !== 0 || ![1, 4, 8, 24, 32].includes(bitCount)) return null;
  const colours = bitCount <= 8 ? dib.readUInt32LE(32) || 1 << bitCount : 0;
  const paletteAt = headerSize;
  const pixelsAt = paletteAt + colours * 4;
  const stride = Math.ceil((width * bitCount) / 32) * 4;
  const maskStride = Math.ceil(width / 32) * 4;
  const maskAt = pixelsAt + stride * height;
  if (maskAt > dib.length) return null;
  const hasMask = maskAt + maskStride * height <= dib.length;
  const out = Buffer.alloc(width * height * 4);
  const at = (i: number): number => dib[i] ?? 0;
  let anyAlpha = false;
  for (let y = 0; y < height; y++) {
    const row = pixelsAt + (height - 1 - y) * stride; // bottom-up
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      let b: number, g: number, r: number, a: number;
      if (bitCount === 32) {
        [b, g, r, a] = [at(row + x * 4), at(row + x * 4 + 1), at(row + x * 4 + 2), at(row + x * 4 + 3)];
        if (a !== 0) anyAlpha = true;
      } else if (bitCount === 24) {
        [b, g, r, a] = [at(row + x * 3), at(row + x * 3 + 1), at(row + x * 3 + 2), 255];
      } else {
        const bitIndex = x * bitCount;
        const byte = at(row + (bitIndex >> 3));
        const index = (byte >> (8 - bitCount - (bitIndex & 7))) & ((1 << bitCount) - 1);
        const p = paletteAt + Math.min(index, colours - 1) * 4;
        [b, g, r, a] = [at(p), at(p + 1), at(p + 2), 255];
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = a;
    }
  }
  // Without an alpha channel (or a 32-bpp one left all zero) transparency comes from the AND mask.
  if (hasMask && !anyAlpha) {
    for (let y = 0; y < height; y++) {
      const row = maskAt + (height - 1 - y) * maskStride;
      for (let x = 0; x < width; x++) {
        const transparent = (at(row + (x >> 3)) >> (7 - (x & 7))) & 1;
        out[(y * width + x) * 4 + 3] = transparent ? 0 : 255;
      }
    }
  } else if (!anyAlpha) {
    for (let i = 3; i < out.length; i += 4) out[i] = 255;
  }
  return { kind: 'rgba', data: out, width, height };
}
