import sharp from 'sharp';

/** A solid-colour PNG (tests assert the colour survives decoding and scaling). */
export async function solidPng(width: number, height: number, rgb: readonly [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: rgb[0], g: rgb[1], b: rgb[2], alpha: 1 } } })
    .png()
    .toBuffer();
}

export async function solidImage(
  format: 'jpeg' | 'webp' | 'gif',
  size: number,
  rgb: readonly [number, number, number],
): Promise<Buffer> {
  const image = sharp({
    create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  });
  return image.toFormat(format).toBuffer();
}

/**
 * A DIB as ICO stores it: BITMAPINFOHEADER with doubled height, bottom-up rows, then the AND mask.
 * 32 bpp carries alpha; 24 bpp takes transparency from the mask (`transparent(x, y)`).
 */
export function icoDib(
  size: number,
  bitCount: 24 | 32,
  rgb: readonly [number, number, number],
  transparent: (x: number, y: number) => boolean = () => false,
): Buffer {
  const stride = Math.ceil((size * bitCount) / 32) * 4;
  const maskStride = Math.ceil(size / 32) * 4;
  const dib = Buffer.alloc(40 + stride * size + maskStride * size);
  dib.writeUInt32LE(40, 0);
  dib.writeInt32LE(size, 4);
  dib.writeInt32LE(size * 2, 8);
  dib.writeUInt16LE(1, 12);
  dib.writeUInt16LE(bitCount, 14);
  for (let y = 0; y < size; y++) {
    const row = 40 + (size - 1 - y) * stride;
    const maskRow = 40 + stride * size + (size - 1 - y) * maskStride;
    for (let x = 0; x < size; x++) {
      const clear = transparent(x, y);
      const px = row + x * (bitCount / 8);
      dib[px] = rgb[2];
      dib[px + 1] = rgb[1];
      dib[px + 2] = rgb[0];
      if (bitCount === 32) dib[px + 3] = clear ? 0 : 255;
      if (clear) dib[maskRow + (x >> 3)] = (dib[maskRow + (x >> 3)] ?? 0) | (0x80 >> (x & 7));
    }
  }
  return dib;
}

/** An ICO file with the given images (PNG bytes or DIBs) in directory order. */
export function icoFile(entries: readonly { size: number; bitCount: number; data: Buffer }[]): Buffer {
  const header = Buffer.alloc(6 + entries.length * 16);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(entries.length, 4);
  let offset = header.length;
  entries.forEach((e, i) => {
    const at = 6 + i * 16;
    header.writeUInt8(e.size >= 256 ? 0 : e.size, at);
    header.writeUInt8(e.size >= 256 ? 0 : e.size, at + 1);
    header.writeUInt16LE(1, at + 4);
    header.writeUInt16LE(e.bitCount, at + 6);
    header.writeUInt32LE(e.data.length, at + 8);
    header.writeUInt32LE(offset, at + 12);
    offset += e.data.length;
  });
  return Buffer.concat([header, ...entries.map((e) => e.data)]);
}

/** Width, height and the colour of the centre pixel of a PNG. */
export async function pngFacts(png: Buffer): Promise<{ width: number; height: number; centre: number[] }> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * 4;
  return { width: info.width, height: info.height, centre: [...data.subarray(at, at + 4)] };
}
