import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import { type AddressPolicy, stripBrackets } from './address-policy';
import { OutboundBlockedError, OutboundError } from './outbound-errors';

/** Resolves a host name to every address it has (tests inject a fake to simulate rebinding). */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** A fixed route for a host (`name` or `name:port`), like curl's --connect-to: tests point names at local servers. */
export interface ConnectRoute {
  readonly address: string;
  readonly port: number;
}

export interface PinnedConnectorOptions {
  readonly policy: AddressPolicy;
  readonly resolve: Resolver;
  readonly connectTimeoutMs: number;
  readonly routes: ReadonlyMap<string, ConnectRoute>;
}

/**
 * An undici connector that resolves the name itself, checks every address against the policy and
 * connects to the checked address (never the name), so a second DNS answer cannot swap in a private
 * address between the check and the connection (DNS rebinding). TLS still verifies the original name.
 */
export function pinnedConnector(options: PinnedConnectorOptions): buildConnector.connector {
  const inner = buildConnector({ timeout: options.connectTimeoutMs });
  return (connect, callback) => {
    const hostname = stripBrackets(connect.hostname);
    resolveChecked(options, hostname, Number(connect.port)).then(
      ({ address, port }) => {
        const servername = connect.servername ?? (isIP(hostname) === 0 ? hostname : undefined);
        inner({ ...connect, hostname: address, port: String(port), ...(servername ? { servername } : {}) }, callback);
      },
      (err: unknown) => {
        callback(err instanceof Error ? err : new Error(String(err)), null);
      },
    );
  };
}

async function resolveChecked(options: PinnedConnectorOptions, hostname: string, port: number): Promise<ConnectRoute> {
  const route = options.routes.get(`${hostname}:${port}`) ?? options.routes.get(hostname);
  let addresses: string[];
  if (route) {
    addresses = [route.address];
    port = route.port;
  } else if (isIP(hostname) !== 0) {
    addresses = [hostname];
  } else {
    addresses = await withTimeout(options.resolve(hostname), options.connectTimeoutMs, hostname);
  }
  // Every address must pass, not just the first: a name that also points inside is refused whole.
  for (const address of addresses) {
    const verdict = options.policy.check(address);
    if (!verdict.allowed) throw new OutboundBlockedError(hostname, verdict.reason);
  }
  // IPv4 first when the name has both: many containers and hosts have no IPv6 route out.
  const chosen = addresses.find((a) => isIP(a) === 4) ?? addresses[0];
  if (chosen === undefined) throw new OutboundError('network', `${hostname} has no address`);
  return { address: chosen, port };
}

async function withTimeout<T>(work: Promise<T>, ms: number, hostname: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => {
      fail(new OutboundError('timeout', `resolving ${hostname} timed out`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (err) {
    if (err instanceof OutboundError) throw err;
    throw new OutboundError('network', `cannot resolve ${hostname}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
