import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  bytes,
  getBytes,
  html,
  icoDib,
  icoFile,
  IconSites,
  pngFacts,
  solidPng,
  startServer,
  type ServerProcess,
} from '@keyhaven/testing';
import { FALLBACK_ICON } from '@keyhaven/service-icons';

/**
 * Icons against local websites (one HTTP server answering for many names; the server reaches them
 * through OUTBOUND_CONNECT_TO and the allow-list 127.0.0.1/32): ICO, PNG, SVG and manifest icons, a
 * site without one, a slow one, a huge icon, a redirect into the private network, a burst for one
 * site. A second server with the default address policy proves that loopback, private and metadata
 * targets — literal or behind a name — get no connection at all.
 */
const RED = [220, 20, 30] as const;
const GREEN = [20, 200, 40] as const;
const BLUE = [30, 40, 210] as const;
const ORANGE = [240, 140, 10] as const;
const HUGE_BYTES = 64 * 1024 * 1024;

describe('icons', () => {
  const sites = new IconSites('127.0.0.1');
  /** Only reachable by a redirect: 127.0.0.2 is not allow-listed. */
  const inner = new IconSites('127.0.0.2');
  /** An SVG's external references point here; it must never see a connection. */
  const canary = new IconSites('127.0.0.1');
  /** Targets of the default-policy server: loopback in both families. */
  const loop4 = new IconSites('127.0.0.1');
  const loop6 = new IconSites('::1');
  const held: ServerResponse[] = [];
  const huge = { sent: 0, finished: false };
  let server: ServerProcess | undefined;
  let strict: ServerProcess | undefined;
  /** Stopped by a restart; its data dir (which the restarted server reuses) is removed at the end. */
  const retired: ServerProcess[] = [];

  const must = (s: ServerProcess | undefined): ServerProcess => {
    assert.ok(s, 'the server did not start');
    return s;
  };
  const icon = (s: ServerProcess | undefined, domain: string) =>
    getBytes(must(s).url, `/icons/${domain}/icon.png`, must(s).caPath);

  before(async () => {
    const page = (links: string) => `<!doctype html><html><head><title>t</title>${links}</head><body></body></html>`;
    await canary.start();
    const ico = icoFile([
      { size: 16, bitCount: 32, data: await solidPng(16, 16, RED) },
      { size: 32, bitCount: 24, data: icoDib(32, 24, GREEN) },
    ]);
    const png64 = await solidPng(64, 64, BLUE);
    const png16 = await solidPng(16, 16, RED);
    const png128 = await solidPng(128, 128, ORANGE);
    const canaryRef = `http://127.0.0.1:${canary.port}`;
    const svg = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="24" height="24" viewBox="0 0 24 24">` +
        `<rect width="24" height="24" fill="rgb(${GREEN.join(',')})"/>` +
        `<image href="${canaryRef}/a.png" width="4" height="4"/><image xlink:href="${canaryRef}/b.png" width="4" height="4"/>` +
        `<rect width="2" height="2" fill="url(${canaryRef}/c.svg#p)"/><style>@import url(${canaryRef}/d.css);</style></svg>`,
    );
    sites
      .site('ico.test', (_req, res, path) => {
        if (path === '/favicon.ico') bytes(res, 'image/x-icon', ico);
        else html(res, page(''));
      })
      .site('png.test', (_req, res, path) => {
        if (path === '/i/64.png') bytes(res, 'image/png', png64);
        else if (path === '/i/16.png') bytes(res, 'image/png', png16);
        else
          html(
            res,
            page('<link rel="icon" sizes="16x16" href="/i/16.png"><link rel="icon" sizes="64x64" href="/i/64.png">'),
          );
      })
      .site('svg.test', (_req, res, path) => {
        if (path === '/icon.svg') bytes(res, 'image/svg+xml', svg);
        else html(res, page('<link rel="icon" type="image/svg+xml" href="/icon.svg">'));
      })
      .site('manifest.test', (_req, res, path) => {
        if (path === '/app.webmanifest') {
          bytes(
            res,
            'application/manifest+json',
            Buffer.from(JSON.stringify({ icons: [{ src: 'm/128.png', sizes: '128x128' }] })),
          );
        } else if (path === '/m/128.png') bytes(res, 'image/png', png128);
        else html(res, page('<link rel="manifest" href="/app.webmanifest">'));
      })
      .site('none.test', (_req, res, path) => {
        if (path === '/') html(res, page(''));
        else {
          res.statusCode = 404;
          res.end();
        }
      })
      .site('slow.test', (_req, res) => {
        held.push(res); // never answered
      })
      .site('huge.test', (_req, res, path) => {
        if (path !== '/huge.png') {
          html(res, page('<link rel="icon" href="/huge.png">'));
          return;
        }
        // A real PNG header, then far more than ICONS_MAX_BYTES, streamed without a length.
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(png64.subarray(0, 33));
        const chunk = Buffer.alloc(64 * 1024);
        const push = (): void => {
          while (!res.destroyed && huge.sent < HUGE_BYTES) {
            huge.sent += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', push);
              return;
            }
          }
          if (!res.destroyed) {
            huge.finished = true;
            res.end();
          }
        };
        push();
      })
      .site('redirect.test', (_req, res) => {
        res.writeHead(302, { location: `http://127.0.0.2:${inner.port}/` });
        res.end();
      })
      .site('limit1.test', (_req, res, path) => {
        if (path === '/b.png') bytes(res, 'image/png', png64);
        else html(res, page('<link rel="icon" href="/b.png">'));
      })
      .site('limit2.test', (_req, res, path) => {
        if (path === '/b.png') bytes(res, 'image/png', png64);
        else html(res, page('<link rel="icon" href="/b.png">'));
      })
      .site('burst.test', (_req, res, path) => {
        if (path === '/b.png') {
          bytes(res, 'image/png', png64);
          return;
        }
        // Slow enough that all 50 requests arrive while the lookup runs.
        setTimeout(() => {
          html(res, page('<link rel="icon" href="/b.png">'));
        }, 500);
      });
    inner.site('*', (_req, res) => {
      html(res, '<link rel="icon" href="/x.png">');
    });
    loop4.site('*', (_req, res) => {
      html(res, '<link rel="icon" href="/x.png">');
    });
    loop6.site('*', (_req, res) => {
      html(res, '<link rel="icon" href="/x.png">');
    });
    await Promise.all([sites.start(), inner.start(), loop4.start(), loop6.start()]);
    const names = ['ico.test', 'png.test', 'svg.test', 'manifest.test', 'none.test', 'slow.test', 'huge.test'];
    const connectTo = [
      sites.routes([...names, 'redirect.test', 'burst.test']),
      `control.test=127.0.0.1:${loop4.port}`,
    ].join(',');
    // One at a time: two cold boots at once on a busy two-core machine can miss the start deadline.
    server = await startServer({
      env: {
        OUTBOUND_ALLOW_NETWORKS: '127.0.0.1/32',
        OUTBOUND_CONNECT_TO: connectTo,
        ICONS_FETCH_TIMEOUT_MS: '4000',
        ICONS_MAX_BYTES: '1048576',
      },
    });
    // Default policy: only names are pinned to the local listeners, nothing is allow-listed.
    strict = await startServer({
      env: {
        OUTBOUND_CONNECT_TO: [
          `localhost=127.0.0.1:${loop4.port}`,
          `rebind.test=127.0.0.1:${loop4.port}`,
          `mapped.test=[::ffff:127.0.0.1]:${loop4.port}`,
          `v6.test=[::1]:${loop6.port}`,
          `metadata.test=169.254.169.254:${loop4.port}`,
          `private.test=10.0.0.1:${loop4.port}`,
        ].join(','),
      },
    });
  });

  after(async () => {
    for (const res of held) res.destroy();
    // Also after a failed start: the listeners must close or the test process never exits.
    await Promise.all([server?.stop(), strict?.stop()]);
    server?.cleanup();
    strict?.cleanup();
    for (const s of retired) s.cleanup();
    await Promise.all([sites.stop(), inner.stop(), canary.stop(), loop4.stop(), loop6.stop()]);
  });

  async function found(domain: string) {
    const r = await icon(server, domain);
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.headers['content-type'], 'image/png');
    assert.ok(!r.body.equals(FALLBACK_ICON), `${domain}: expected its own icon, got the fallback`);
    const maxAge = Number(/max-age=(\d+)/.exec(String(r.headers['cache-control']))?.[1]);
    assert.ok(maxAge > 7 * 24 * 3600, `long cache for a hit: ${String(r.headers['cache-control'])}`);
    return pngFacts(r.body);
  }

  async function fallback(s: ServerProcess | undefined, domain: string): Promise<number> {
    const r = await icon(s, domain);
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(FALLBACK_ICON), `${domain}: expected the fallback icon`);
    const maxAge = Number(/max-age=(\d+)/.exec(String(r.headers['cache-control']))?.[1]);
    assert.ok(maxAge <= 24 * 3600, `short cache for the fallback: ${String(r.headers['cache-control'])}`);
    return maxAge;
  }

  test('with default settings, loopback, private and metadata targets get no connection', async () => {
    for (const literal of ['127.0.0.1', '10.0.0.1', '[::1]', '169.254.169.254', '%5B::1%5D', '2130706433']) {
      assert.equal((await icon(strict, literal)).status, 400, literal);
    }
    for (const name of ['localhost', 'rebind.test', 'mapped.test', 'v6.test', 'metadata.test', 'private.test']) {
      await fallback(strict, name);
    }
    assert.equal(loop4.connections + loop6.connections, 0);
    // The control: allow-listed, the same listener does get the connection.
    await fallback(server, 'control.test');
    assert.ok(loop4.connections > 0);
  });

  test('ICO: the best entry (a 24-bit BMP with its mask) decoded and served as PNG', async () => {
    assert.deepEqual(await found('ico.test'), { width: 32, height: 32, centre: [...GREEN, 255] });
  });

  test('PNG: the link icon of the best size, the others not fetched', async () => {
    assert.deepEqual(await found('png.test'), { width: 64, height: 64, centre: [...BLUE, 255] });
    assert.equal(sites.hits('png.test', '/i/16.png'), 0);
  });

  test('SVG: rasterised without fetching anything it references', async () => {
    assert.deepEqual(await found('svg.test'), { width: 64, height: 64, centre: [...GREEN, 255] });
    assert.equal(canary.connections, 0);
  });

  test('web manifest icons, scaled to 64 px', async () => {
    assert.deepEqual(await found('manifest.test'), { width: 64, height: 64, centre: [...ORANGE, 255] });
  });

  test('a site without an icon: the fallback, with a shorter cache, and the miss is remembered', async () => {
    await fallback(server, 'none.test');
    const seen = sites.hits('none.test');
    assert.ok(seen >= 2, 'the page and /favicon.ico were asked for');
    await fallback(server, 'none.test');
    assert.equal(sites.hits('none.test'), seen);
  });

  test('hits are served from the cache without contacting the site', async () => {
    const before = sites.hits('png.test');
    const facts = await found('png.test');
    assert.equal(facts.width, 64);
    assert.equal(sites.hits('png.test'), before);
  });

  test('a slow site times out while other requests are answered', async () => {
    let slowDone = false;
    const slow = icon(server, 'slow.test').then((r) => {
      slowDone = true;
      return r;
    });
    while (sites.hits('slow.test') === 0) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await must(server).http.get('/alive')).status, 200);
    await found('ico.test');
    assert.equal(slowDone, false, 'other requests were answered while the slow lookup was still running');
    const r = await slow;
    assert.ok(r.body.equals(FALLBACK_ICON));
  });

  test('a huge icon is cut off at the cap', async () => {
    await fallback(server, 'huge.test');
    assert.equal(sites.hits('huge.test', '/huge.png'), 1);
    assert.equal(huge.finished, false, 'the download was aborted before the site sent it all');
  });

  test('a redirect to a private address is blocked before connecting', async () => {
    await fallback(server, 'redirect.test');
    assert.equal(sites.hits('redirect.test'), 1);
    assert.equal(inner.connections, 0);
  });

  test('50 concurrent requests for one site make one lookup', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => icon(server, 'burst.test')));
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.ok(a.body.equals(answers[0]?.body ?? Buffer.alloc(0)));
    }
    assert.ok(!answers[0]?.body.equals(FALLBACK_ICON));
    assert.equal(sites.hits('burst.test', '/'), 1);
    assert.equal(sites.hits('burst.test', '/b.png'), 1);
  });

  test('invalid domains are refused without a lookup', async () => {
    const before = sites.requests.length;
    for (const bad of ['a..b', '-x.test', `${'a'.repeat(64)}.test`, 'x.test%2Fpath', 'u%40x.test']) {
      assert.equal((await icon(server, bad)).status, 400, bad);
    }
    assert.equal(sites.requests.length, before);
  });

  test('the cache lives in the BlobStore: a restarted server serves hits and misses without fetching; lookups are limited per client', async () => {
    const before = sites.requests.length;
    const pngBefore = await icon(server, 'png.test');
    const dataDir = must(server).dataDir;
    await must(server).stop();
    retired.push(must(server));
    server = await startServer({
      dataDir,
      env: {
        OUTBOUND_ALLOW_NETWORKS: '127.0.0.1/32',
        OUTBOUND_CONNECT_TO: sites.routes(['png.test', 'none.test', 'limit1.test', 'limit2.test']),
        ICONS_LOOKUPS_PER_MINUTE_PER_IP: '1',
      },
    });
    const again = await icon(server, 'png.test');
    assert.ok(again.body.equals(pngBefore.body));
    await fallback(server, 'none.test');
    assert.equal(sites.requests.length, before);
    // Cache hits do not count against the lookup limit; the second new site does, and waits.
    await found('limit1.test');
    assert.equal(await fallback(server, 'limit2.test'), 60);
    assert.equal(sites.hits('limit2.test'), 0);
  });
});
