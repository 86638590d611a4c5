import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverConfigSchema } from '@keyhaven/config';

/** The OUTBOUND_* settings as the process reads them: bad values stop the boot, good ones arrive parsed. */
void describe('OUTBOUND_* settings', () => {
  const parse = (env: Record<string, string>) => serverConfigSchema.safeParse(env);

  void it('default to no allow-list, no routes and the documented limits', () => {
    const config = parse({});
    assert.ok(config.success);
    assert.deepEqual(config.data.OUTBOUND_ALLOW_NETWORKS, []);
    assert.deepEqual(config.data.OUTBOUND_CONNECT_TO, []);
    assert.equal(config.data.OUTBOUND_MAX_BYTES, 5242880);
    assert.equal(config.data.ICONS_ALLOW_IP_LITERALS, false);
  });

  void it('parse allow-lists of addresses and CIDRs in both families', () => {
    const config = parse({ OUTBOUND_ALLOW_NETWORKS: '127.0.0.1, 10.0.0.0/8,::1,[fd00::1],fc00::/7' });
    assert.ok(config.success);
    assert.deepEqual(config.data.OUTBOUND_ALLOW_NETWORKS, ['127.0.0.1', '10.0.0.0/8', '::1', '[fd00::1]', 'fc00::/7']);
  });

  void it('parse routes with and without a source port, IPv6 targets in brackets', () => {
    const config = parse({ OUTBOUND_CONNECT_TO: 'A.test=127.0.0.1:8080,b.test:443=[::1]:8443' });
    assert.ok(config.success);
    assert.deepEqual(config.data.OUTBOUND_CONNECT_TO, [
      { from: 'a.test', address: '127.0.0.1', port: 8080 },
      { from: 'b.test:443', address: '::1', port: 8443 },
    ]);
  });

  for (const [name, value] of [
    ['OUTBOUND_ALLOW_NETWORKS', 'intranet'],
    ['OUTBOUND_ALLOW_NETWORKS', '10.0.0.0/33'],
    ['OUTBOUND_CONNECT_TO', 'a.test=internal.example:80'],
    ['OUTBOUND_CONNECT_TO', 'a.test=127.0.0.1'],
    ['OUTBOUND_CONNECT_TIMEOUT_MS', '0'],
    ['ICONS_LOOKUPS_PER_MINUTE_PER_IP', '0'],
  ] as const) {
    void it(`refuses ${name}=${value}`, () => {
      const config = parse({ [name]: value });
      assert.equal(config.success, false);
      assert.ok(config.error.issues.some((i) => i.path[0] === name));
    });
  }
});
