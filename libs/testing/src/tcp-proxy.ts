import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder on 127.0.0.1 whose link can be cut: `cut()` drops every open connection and refuses new
 * ones (the client sees what a dead broker or a network partition looks like), `restore()` forwards again on
 * the same port. Outage tests put it in front of a machine-wide service (RabbitMQ) so that the service
 * itself keeps running for everyone else on the machine.
 */
export interface TcpProxy {
  readonly port: number;
  /** `scheme://user:pass@127.0.0.1:<port>/path` from the target's URL. */
  urlFor(targetUrl: string): string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let server: Server | undefined;
  const listen = (on: number): Promise<number> => {
    const s = createServer((client) => {
      const upstream = createConnection(target);
      open.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server = s;
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(on, '127.0.0.1', () => {
        const address = s.address();
        resolve(typeof address === 'object' && address ? address.port : on);
      });
    });
  };
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of open) socket.destroy();
    open.clear();
    if (s)
      await new Promise<void>((resolve) =>
        s.close(() => {
          resolve();
        }),
      );
  };
  const bound = await listen(port);
  return {
    port: bound,
    urlFor: (targetUrl) => {
      const url = new URL(targetUrl);
      url.hostname = '127.0.0.1';
      url.port = String(bound);
      return url.toString();
    },
    cut: stop,
    restore: async () => {
      if (!server) await listen(bound);
    },
    close: stop,
  };
}
