import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { icoDib, icoFile, pngFacts, solidImage, solidPng } from '@keyhaven/testing';
import { bestIcoEntry, decodeIco, icoEntries } from './ico';
import { ICON_SIZE, normalizeIcon, sniffFormat } from './normalize';
import { sanitizeSvg } from './svg';

const RED = [220, 20, 30] as const;
const GREEN = [20, 200, 40] as const;
const BLUE = [30, 40, 210] as const;

async function facts(data: Buffer) {
  const png = await normalizeIcon(data);
  assert.ok(png, 'expected the image to decode');
  assert.equal(sniffFormat(png), 'png');
  return pngFacts(png);
}

void describe('ICO', () => {
  void it('picks the smallest entry at least the served size, PNG entries returned as they are', async () => {
    const ico = icoFile([
      { size: 16, bitCount: 32, data: await solidPng(16, 16, RED) },
      { size: 128, bitCount: 32, data: await solidPng(128, 128, BLUE) },
      { size: 64, bitCount: 32, data: await solidPng(64, 64, GREEN) },
      { size: 32, bitCount: 32, data: await solidPng(32, 32, RED) },
    ]);
    assert.equal(bestIcoEntry(icoEntries(ico), ICON_SIZE)?.width, 64);
    const decoded = decodeIco(ico, ICON_SIZE);
    assert.equal(decoded?.kind, 'png');
    const f = await facts(ico);
    assert.deepEqual([f.width, f.height], [64, 64]);
    assert.deepEqual(f.centre, [...GREEN, 255]);
  });

  void it('falls back to the largest entry when all are small, preferring deeper colour', () => {
    const entries = [
      { width: 16, height: 16, bitCount: 32, offset: 0, size: 1 },
      { width: 32, height: 32, bitCount: 8, offset: 0, size: 1 },
      { width: 32, height: 32, bitCount: 32, offset: 0, size: 1 },
    ];
    assert.deepEqual(bestIcoEntry(entries, 64), entries[2]);
  });

  void it('decodes a 24-bpp BMP entry with its AND mask as transparency', async () => {
    const ico = icoFile([{ size: 32, bitCount: 24, data: icoDib(32, 24, BLUE, (x, y) => x < 4 && y < 4) }]);
    const image = decodeIco(ico, ICON_SIZE);
    assert.ok(image && image.kind === 'rgba');
    assert.deepEqual([image.width, image.height], [32, 32]);
    assert.deepEqual([...image.data.subarray(0, 4)], [...BLUE, 0]); // top-left: masked out
    const last = image.data.length - 4;
    assert.deepEqual([...image.data.subarray(last)], [...BLUE, 255]);
    const f = await facts(ico);
    assert.deepEqual([f.width, f.height, ...f.centre], [32, 32, ...BLUE, 255]);
  });

  void it('decodes a 32-bpp BMP entry with its alpha channel', () => {
    const ico = icoFile([{ size: 16, bitCount: 32, data: icoDib(16, 32, RED, (x) => x === 0) }]);
    const image = decodeIco(ico, ICON_SIZE);
    assert.ok(image && image.kind === 'rgba');
    assert.equal(image.data[3], 0);
    assert.equal(image.data[7], 255);
  });

  void it('rejects malformed files: entries outside the file, truncated bitmaps, not an ICO', () => {
    const good = icoFile([{ size: 16, bitCount: 24, data: icoDib(16, 24, RED) }]);
    const outside = Buffer.from(good);
    outside.writeUInt32LE(good.length + 100, 6 + 12);
    assert.equal(decodeIco(outside, ICON_SIZE), null);
    const truncated = good.subarray(0, 6 + 16 + 40 + 10);
    assert.equal(decodeIco(truncated, ICON_SIZE), null);
    assert.equal(decodeIco(Buffer.from('not an icon at all'), ICON_SIZE), null);
    assert.equal(decodeIco(Buffer.alloc(0), ICON_SIZE), null);
  });
});

void describe('normalizeIcon', () => {
  void it('scales a large PNG down to at most 64 px and keeps a small one as it is', async () => {
    assert.deepEqual(await facts(await solidPng(300, 150, RED)), { width: 64, height: 32, centre: [...RED, 255] });
    const small = await facts(await solidPng(16, 16, GREEN));
    assert.deepEqual([small.width, small.height], [16, 16]);
  });

  for (const format of ['jpeg', 'webp', 'gif'] as const) {
    void it(`reads ${format}`, async () => {
      const f = await facts(await solidImage(format, 48, BLUE));
      assert.deepEqual([f.width, f.height], [48, 48]);
      assert.ok(Math.abs((f.centre[2] ?? 0) - BLUE[2]) < 20, JSON.stringify(f.centre));
    });
  }

  void it('rasterises an SVG at the served size', async () => {
    const svg = Buffer.from(
      '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">' +
        '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16"><rect width="16" height="16" fill="rgb(20,200,40)"/></svg>',
    );
    assert.deepEqual(await facts(svg), { width: 64, height: 64, centre: [...GREEN, 255] });
  });

  void it('returns null for what is not an image, and for a truncated one', async () => {
    assert.equal(await normalizeIcon(Buffer.from('<html><body>hi</body></html>')), null);
    const png = await solidPng(32, 32, RED);
    assert.equal(await normalizeIcon(png.subarray(0, 40)), null);
  });
});

void describe('sanitizeSvg', () => {
  const clean = (s: string) => sanitizeSvg(Buffer.from(s))?.toString() ?? null;

  void it('removes every external reference and keeps fragments and inline raster data', () => {
    const out = clean(
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">' +
        '<image href="http://127.0.0.1:9/a.png"/><image xlink:href=\'https://evil.example/b.png\'/>' +
        '<use href="#shape"/><image href="data:image/png;base64,AAAA"/><image href="data:image/svg+xml,<svg/>"/>' +
        '<rect fill="url(http://x.example/p#f)" style="fill:url(//x.example/q)"/><rect fill="url(#grad)"/>' +
        '<style>@import url(http://x.example/s.css); .a{background:url("http://x.example/i.png")}</style></svg>',
    );
    assert.ok(out);
    assert.doesNotMatch(out, /127\.0\.0\.1|evil\.example|x\.example|svg\+xml|@import/);
    assert.match(out, /href="#shape"/);
    assert.match(out, /data:image\/png;base64,AAAA/);
    assert.match(out, /url\(#grad\)/);
  });

  void it('refuses scripts, foreignObject, entities and stylesheet instructions outright', () => {
    for (const hostile of [
      '<svg><script>fetch("http://x")</script></svg>',
      '<svg><foreignObject><iframe src="http://x"/></foreignObject></svg>',
      '<!DOCTYPE svg [<!ENTITY x SYSTEM "http://127.0.0.1/">]><svg>&x;</svg>',
      '<?xml-stylesheet href="http://x/s.css"?><svg/>',
      '<svg><style>a{}</svg>',
    ]) {
      assert.equal(clean(hostile), null, hostile);
    }
  });
});
