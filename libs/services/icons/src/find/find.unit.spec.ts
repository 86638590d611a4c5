import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeIconDomain } from '../icon-domain';
import { rank } from './candidates';
import { pageIcons } from './html-icons';
import { manifestIcons } from './manifest-icons';

void describe('pageIcons', () => {
  void it('finds link icons with their sizes, apple-touch icons, the manifest and honours <base>', () => {
    const html = `<!doctype html><html><head>
      <base href="https://cdn.example.com/assets/">
      <LINK REL="shortcut icon" href="/favicon.ico">
      <link rel=icon sizes=16x16 href="i16.png"><link rel="icon" sizes="64x64" href="i64.png?a=1&amp;b=2">
      <link rel='apple-touch-icon' href='touch.png'>
      <link rel="manifest" href="site.webmanifest"><link rel="stylesheet" href="x.css">
      </head><body><link rel="icon" href="late.png"></body></html>`;
    const found = pageIcons(html, 'https://example.com/home');
    assert.equal(found.manifest, 'https://cdn.example.com/assets/site.webmanifest');
    const ranked = rank(found.icons).map((c) => c.url);
    assert.equal(ranked[0], 'https://cdn.example.com/assets/i64.png?a=1&b=2');
    assert.deepEqual(
      new Set(ranked),
      new Set([
        'https://cdn.example.com/favicon.ico',
        'https://cdn.example.com/assets/i16.png',
        'https://cdn.example.com/assets/i64.png?a=1&b=2',
        'https://cdn.example.com/assets/touch.png',
      ]),
    );
  });

  void it('ignores non-http hrefs and survives hostile markup', () => {
    const found = pageIcons(
      '<head><link rel="icon" href="javascript:alert(1)"><link rel="icon" href="file:///etc/passwd">',
      'https://a.example/',
    );
    assert.deepEqual(found.icons, []);
    const hostile = '<link'.repeat(100000) + '<link rel="icon" href="x.png"';
    assert.deepEqual(pageIcons(hostile, 'https://a.example/').icons, []);
  });
});

void describe('manifestIcons', () => {
  void it('reads icons relative to the manifest and prefers plain over maskable', () => {
    const json = JSON.stringify({
      icons: [
        { src: 'm192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
        { src: '/icons/a96.png', sizes: '96x96', type: 'image/png' },
        { src: 42 },
      ],
    });
    const ranked = rank(manifestIcons(json, 'https://example.com/app/manifest.json')).map((c) => c.url);
    assert.deepEqual(ranked, ['https://example.com/icons/a96.png', 'https://example.com/app/m192.png']);
    assert.deepEqual(manifestIcons('not json', 'https://example.com/'), []);
  });
});

void describe('normalizeIconDomain', () => {
  const table: [string, string | null][] = [
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['sub-domain.example.co.uk', 'sub-domain.example.co.uk'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['localhost', 'localhost'],
    ['127.0.0.1', null],
    ['[::1]', null],
    ['::1', null],
    ['10.0.0.1', null],
    ['169.254.169.254', null],
    ['2130706433', null],
    ['127.1', null],
    ['0x7f.1', null],
    ['example.com:8080', null],
    ['exa mple.com', null],
    ['-bad.example', null],
    ['a..b', null],
    ['example.com/path', null],
    ['user@example.com', null],
    ['', null],
    [`${'a'.repeat(64)}.com`, null],
    [`${'a.'.repeat(127)}com`, null],
  ];
  for (const [input, expected] of table) {
    void it(`${JSON.stringify(input.slice(0, 40))} → ${String(expected)}`, () => {
      assert.equal(normalizeIconDomain(input, false), expected);
    });
  }

  void it('accepts IP literals only when allowed, in canonical form', () => {
    assert.equal(normalizeIconDomain('127.0.0.1', true), '127.0.0.1');
    assert.equal(normalizeIconDomain('[::1]', true), '::1');
  });
});
