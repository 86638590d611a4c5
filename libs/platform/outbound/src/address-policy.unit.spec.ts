import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressPolicy, isIpLiteral } from './address-policy';

/** [address, allowed by default, why] — both families, and IPv6 forms that smuggle an IPv4 address. */
const TABLE: [string, boolean, string][] = [
  ['8.8.8.8', true, 'public IPv4'],
  ['93.184.216.34', true, 'public IPv4'],
  ['2606:4700:4700::1111', true, 'public IPv6'],
  ['::ffff:8.8.8.8', true, 'IPv4-mapped public'],
  ['64:ff9b::808:808', true, 'NAT64 of a public address'],
  ['127.0.0.1', false, 'loopback'],
  ['127.255.255.254', false, 'loopback /8'],
  ['0.0.0.0', false, 'unspecified'],
  ['0.1.2.3', false, 'this network'],
  ['10.0.0.1', false, 'private 10/8'],
  ['172.16.0.1', false, 'private 172.16/12'],
  ['172.31.255.255', false, 'private 172.16/12 end'],
  ['192.168.1.1', false, 'private 192.168/16'],
  ['169.254.169.254', false, 'metadata / link-local'],
  ['169.254.1.1', false, 'link-local'],
  ['100.64.0.1', false, 'CGNAT'],
  ['100.127.255.255', false, 'CGNAT end'],
  ['100.100.100.200', false, 'Alibaba metadata'],
  ['224.0.0.1', false, 'multicast'],
  ['239.255.255.250', false, 'multicast'],
  ['255.255.255.255', false, 'broadcast'],
  ['192.0.2.1', false, 'documentation'],
  ['198.18.0.1', false, 'benchmarking'],
  ['240.0.0.1', false, 'reserved'],
  ['::', false, 'IPv6 unspecified'],
  ['::1', false, 'IPv6 loopback'],
  ['fe80::1', false, 'IPv6 link-local'],
  ['fc00::1', false, 'unique-local'],
  ['fd12:3456::1', false, 'unique-local'],
  ['fd00:ec2::254', false, 'AWS IPv6 metadata'],
  ['fec0::1', false, 'site-local'],
  ['ff02::1', false, 'IPv6 multicast'],
  ['2001:db8::1', false, 'IPv6 documentation'],
  ['::ffff:127.0.0.1', false, 'IPv4-mapped loopback'],
  ['::ffff:7f00:1', false, 'IPv4-mapped loopback, hex'],
  ['::ffff:10.0.0.1', false, 'IPv4-mapped private'],
  ['::ffff:169.254.169.254', false, 'IPv4-mapped metadata'],
  ['::ffff:0:7f00:1', false, 'IPv4-translated loopback'],
  ['64:ff9b::7f00:1', false, 'NAT64 of loopback'],
  ['64:ff9b::a9fe:a9fe', false, 'NAT64 of metadata'],
  ['2002:7f00:1::', false, '6to4 of loopback'],
  ['2002:a00:1::', false, '6to4 of private'],
  ['2001::1', false, 'Teredo'],
  ['fe80::1%eth0', false, 'scoped link-local'],
  ['[::1]', false, 'bracketed loopback'],
  ['localhost', false, 'a name, not an address'],
  ['', false, 'empty'],
];

void describe('AddressPolicy (default)', () => {
  const policy = new AddressPolicy();
  for (const [address, allowed, why] of TABLE) {
    void it(`${allowed ? 'allows' : 'refuses'} ${address || '""'} (${why})`, () => {
      const verdict = policy.check(address);
      assert.equal(verdict.allowed, allowed, JSON.stringify(verdict));
      if (!verdict.allowed) assert.ok(verdict.reason.length > 0);
    });
  }
});

void describe('AddressPolicy with an allow-list', () => {
  const policy = new AddressPolicy(['127.0.0.0/8', '::1', '10.1.0.0/16', '169.254.0.0/16', 'fd00::/8']);

  const cases: [string, boolean][] = [
    ['127.0.0.1', true],
    ['127.9.9.9', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.1.2.3', true],
    ['10.2.0.1', false],
    ['192.168.0.1', false],
    ['169.254.1.1', true],
    // Metadata endpoints stay closed even inside an allowed network.
    ['169.254.169.254', false],
    ['::ffff:169.254.169.254', false],
    ['fd00:ec2::254', false],
    ['fd00::5', true],
    ['8.8.8.8', true],
  ];
  for (const [address, allowed] of cases) {
    void it(`${allowed ? 'allows' : 'refuses'} ${address}`, () => {
      assert.equal(policy.check(address).allowed, allowed);
    });
  }

  void it('rejects a malformed allow-list entry at construction', () => {
    assert.throws(() => new AddressPolicy(['not-a-network']));
  });
});

void describe('isIpLiteral', () => {
  const cases: [string, boolean][] = [
    ['127.0.0.1', true],
    ['[::1]', true],
    ['::1', true],
    ['2130706433', true],
    ['0x7f.1', true],
    ['example.com', false],
    ['xn--bcher-kva.example', false],
    ['localhost', false],
  ];
  for (const [host, literal] of cases) {
    void it(`${host} ${literal ? 'is' : 'is not'} an IP literal`, () => {
      assert.equal(isIpLiteral(host), literal);
    });
  }
});
