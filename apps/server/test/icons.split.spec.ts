import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { bytes, getBytes, html, IconSites, pngFacts, requireServices, solidPng } from '@keyhaven/testing';
import { FALLBACK_ICON } from '@keyhaven/service-icons';
import { startSplitApps, type SplitApps } from './split-stack';

/**
 * The icons app on its own, two instances sharing Redis and one BlobStore (a shared data dir): a
 * burst spread over both makes one lookup (the per-instance coalescing plus the lock in Redis), and
 * each instance then serves the other's result from the cache.
 */
describe('icons as split apps: two instances, one lookup', () => {
  const sites = new IconSites('127.0.0.1');
  // Fresh names per run: the machine's Redis outlives the test.
  const burst = `burst-${randomBytes(4).toString('hex')}.test`;
  const dataDir = mkdtempSync(join(tmpdir(), 'keyhaven-icons-shared-'));
  let stack: SplitApps | undefined;

  before(async () => {
    if (!(await requireServices({ skip: () => undefined }, 'postgres', 'redis', 'rabbitmq'))) return;
    const png = await solidPng(48, 48, [10, 120, 200]);
    sites.site(burst, (_req, res, path) => {
      if (path === '/i.png') {
        bytes(res, 'image/png', png);
        return;
      }
      // Slow enough that every request of the burst arrives while the lookup runs.
      setTimeout(() => {
        html(res, '<html><head><link rel="icon" href="/i.png"></head></html>');
      }, 700);
    });
    await sites.start();
    stack = await startSplitApps(['icons', 'icons'], 'https://localhost:1', {
      DATA_DIR: dataDir,
      OUTBOUND_ALLOW_NETWORKS: '127.0.0.1/32',
      OUTBOUND_CONNECT_TO: sites.routes([burst]),
    });
  });

  after(async () => {
    await stack?.stop();
    await sites.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('25 concurrent requests on each instance: one outbound lookup, the same icon everywhere', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq')) || !stack) return;
    const [a, b] = stack.servers;
    assert.ok(a && b);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => getBytes((i % 2 === 0 ? a : b).url, `/icons/${burst}/icon.png`)),
    );
    const first = answers[0];
    assert.ok(first);
    assert.equal(first.status, 200);
    assert.ok(!first.body.equals(FALLBACK_ICON), 'the site has an icon');
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.ok(answer.body.equals(first.body));
    }
    assert.deepEqual((await pngFacts(first.body)).width, 48);
    assert.equal(sites.hits(burst, '/'), 1, 'one page fetch for 50 requests on two instances');
    assert.equal(sites.hits(burst, '/i.png'), 1);
    // And afterwards both answer from the shared cache.
    for (const server of [a, b])
      assert.ok((await getBytes(server.url, `/icons/${burst}/icon.png`)).body.equals(first.body));
    assert.equal(sites.requests.length, 2);
  });
});
