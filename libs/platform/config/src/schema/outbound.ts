import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { bool, list } from './fields';

// Requests the server makes itself (icons, webhooks): which addresses they may reach, their time and size
// limits, and the icon service built on them.

const isNetwork = (entry: string): boolean => {
  const value = entry.replace(/^\[(.*)\]$/, '$1');
  try {
    if (value.includes('/')) ipaddr.parseCIDR(value);
    else ipaddr.parse(value);
    return true;
  } catch {
    return false;
  }
};

/** `host[:port]=address:port` (IPv6 address in brackets), like curl's --connect-to. */
const CONNECT_TO =
  /^([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?=(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]):(\d{1,5})$/i;
const connectTo = list((e) => CONNECT_TO.test(e), 'must be host[:port]=address:port entries').transform((entries) =>
  entries.map((e) => {
    const [, host = '', fromPort, address = '', port = ''] = CONNECT_TO.exec(e) ?? [];
    const bare = (h: string) => h.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    return { from: fromPort ? `${bare(host)}:${fromPort}` : bare(host), address: bare(address), port: Number(port) };
  }),
);

export const outboundShape = {
  /** Outbound fetches (icons, webhooks) may reach these CIDRs despite the private-address policy (tests, internal hosts); metadata addresses stay closed. */
  OUTBOUND_ALLOW_NETWORKS: list(isNetwork, 'must be IP addresses or CIDRs, comma-separated'),
  /** Test and development routing: `host[:port]=address:port`, comma-separated; the address policy still applies. */
  OUTBOUND_CONNECT_TO: connectTo,
  OUTBOUND_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(5000),
  /** Longest wait for response headers, and between two chunks of a body. */
  OUTBOUND_READ_TIMEOUT_MS: z.coerce.number().int().min(100).max(120000).default(10000),
  /** A whole outbound request, redirects and body included. */
  OUTBOUND_TIMEOUT_MS: z.coerce.number().int().min(100).max(300000).default(20000),
  /** Largest outbound response body read; more aborts the request. */
  OUTBOUND_MAX_BYTES: z.coerce.number().int().min(1024).default(5242880),
  /** How long a found icon is kept (BlobStore, Redis in front) and told to browsers to keep. */
  ICONS_CACHE_TTL_SECONDS: z.coerce.number().int().min(60).default(2592000),
  /** How long "this site has no icon" is kept (the fallback icon is served meanwhile). */
  ICONS_MISS_TTL_SECONDS: z.coerce.number().int().min(60).default(259200),
  /** Whole lookup of one site's icon (page, manifest, image), every request included. */
  ICONS_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120000).default(10000),
  /** Largest icon image downloaded (the page itself is capped at 512 KiB). */
  ICONS_MAX_BYTES: z.coerce.number().int().min(1024).max(52428800).default(1048576),
  /** Accept IP literals as icon "domains" (tests); names only otherwise. */
  ICONS_ALLOW_IP_LITERALS: bool(false),
  /** Icon lookups (cache misses, each a fetch from the site) one client IP may start per minute; beyond, the fallback. */
  ICONS_LOOKUPS_PER_MINUTE_PER_IP: z.coerce.number().int().min(1).default(600),
};
