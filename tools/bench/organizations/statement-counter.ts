import { createServer, connect, type Server, type Socket } from 'node:net';

/** Forwards the server's PostgreSQL connections and counts the statements on the wire. */
export class StatementCounter {
  statements = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async listen(): Promise<number> {
    this.server = createServer((client) => {
      const upstream = connect({ host: this.host, port: this.port });
      this.sockets.add(client).add(upstream);
      let pending = Buffer.alloc(0);
      let startup = true;
      client.on('data', (chunk: Buffer) => {
        upstream.write(chunk);
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          if (startup) {
            // Startup and SSL requests: a length, no type byte.
            if (pending.length < 8) break;
            const length = pending.readInt32BE(0);
            if (pending.length < length) break;
            const code = pending.readInt32BE(4);
            pending = pending.subarray(length);
            if (code !== 80877103) startup = false;
            continue;
          }
          if (pending.length < 5) break;
          const length = pending.readInt32BE(1);
          if (pending.length < length + 1) break;
          const type = String.fromCharCode(pending[0] ?? 0);
          if (type === 'Q' || type === 'E') this.statements++;
          pending = pending.subarray(length + 1);
        }
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      const close = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy did not bind');
    return address.port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
}
