import { type Server, type Socket, connect, createServer } from 'node:net';

/**
 * A TCP forwarder a test can put between a client and a server, then `blackhole()` to stop all traffic
 * while keeping both sockets open: a half-open connection, as when a peer or a NAT silently goes away.
 */
export class TcpProxy {
  private blackholed = false;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no TCP address');
    const proxy = new TcpProxy(server, address.port);
    server.on('connection', (client) => {
      proxy.forward(client, connect(targetPort, targetHost));
    });
    return proxy;
  }

  blackhole(): void {
    this.blackholed = true;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  private forward(client: Socket, upstream: Socket): void {
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        if (!this.blackholed) to.write(chunk);
      });
      from.on('error', () => {
        to.destroy();
      });
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
    }
  }
}
