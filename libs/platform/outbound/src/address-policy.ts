import ipaddr from 'ipaddr.js';

/**
 * Which addresses an outbound request may connect to. Only globally routable unicast is allowed:
 * loopback, private, link-local, CGNAT, unique-local, multicast, unspecified, documentation and
 * other reserved ranges are refused, in both families, and IPv6 forms that embed an IPv4 address
 * (`::ffff:a.b.c.d`, NAT64, 6to4) are judged by the address they embed. An operator allow-list
 * (CIDRs; for tests and internal deployments) opens ranges, except the cloud metadata endpoints,
 * which are never reachable.
 */

/** Instance-metadata services (AWS, GCP, Azure, ECS, Alibaba, Oracle): refused even when allow-listed. */
const METADATA = ['169.254.169.254', '169.254.170.2', '100.100.100.200', '192.0.0.192', 'fd00:ec2::254'].map((a) =>
  ipaddr.parse(a).toNormalizedString(),
);

/** IPv6 ranges whose last 32 bits (or bits 16..48 for 6to4) are an IPv4 address. */
const EMBEDS_IPV4 = new Set(['ipv4Mapped', 'rfc6145', 'rfc6052']);

export type AddressVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

type Network = [ipaddr.IPv4 | ipaddr.IPv6, number];

export class AddressPolicy {
  private readonly allowed: readonly Network[];

  /** @param allowNetworks CIDRs (`127.0.0.0/8`) or single addresses opened despite their range. */
  constructor(allowNetworks: readonly string[] = []) {
    this.allowed = allowNetworks.map(parseNetwork);
  }

  /** Judges one literal address (as resolved, before connecting). Unparseable input is refused. */
  check(address: string): AddressVerdict {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.parse(stripBrackets(address));
    } catch {
      return { allowed: false, reason: 'not an IP address' };
    }
    if (parsed.kind() === 'ipv6') {
      const v6 = parsed as ipaddr.IPv6;
      if (v6.zoneId !== undefined) return { allowed: false, reason: 'scoped IPv6 address' };
      const embedded = embeddedIpv4(v6);
      if (embedded) {
        // `::ffff:127.0.0.1` reaches 127.0.0.1 through a dual-stack socket: judge it as that address.
        const inner = this.check(embedded.toString());
        return inner.allowed ? inner : { allowed: false, reason: `${v6.range()} form of ${inner.reason}` };
      }
    }
    if (METADATA.includes(normalized(parsed))) return { allowed: false, reason: 'cloud metadata address' };
    if (this.allowed.some((net) => sameKind(parsed, net[0]) && parsed.match(net))) return { allowed: true };
    const range = parsed.range();
    if (range === 'unicast') return { allowed: true };
    return { allowed: false, reason: `${range} address` };
  }
}

function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const range = address.range();
  const bytes = address.toByteArray();
  if (EMBEDS_IPV4.has(range)) return new ipaddr.IPv4(bytes.slice(12, 16));
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6));
  return null;
}

function parseNetwork(entry: string): Network {
  const value = stripBrackets(entry.trim());
  if (value.includes('/')) return ipaddr.parseCIDR(value);
  const address = ipaddr.parse(value);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/** True when the entry is a valid allow-list item (for config validation). */
export function isNetworkSpec(entry: string): boolean {
  try {
    parseNetwork(entry);
    return true;
  } catch {
    return false;
  }
}

function normalized(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  return address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toNormalizedString() : address.toString();
}

function sameKind(a: ipaddr.IPv4 | ipaddr.IPv6, b: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return a.kind() === b.kind();
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** True for a literal IPv4 or IPv6 address (brackets allowed), in any form `ipaddr.js` accepts strictly. */
export function isIpLiteral(host: string): boolean {
  const value = stripBrackets(host);
  return ipaddr.IPv4.isValidFourPartDecimal(value) || ipaddr.IPv6.isValid(value) || ipaddr.IPv4.isValid(value);
}
