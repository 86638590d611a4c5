import type { Server } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

/**
 * Where a process is in its life, for the readiness probe and for whatever holds long-lived connections.
 *
 * `serving` → `draining` (SIGTERM: /healthz answers 503 so load balancers and Kubernetes stop routing here,
 * while requests are still served) → `closed` (the listener no longer accepts connections; in-flight requests
 * finish, hub clients are told to reconnect elsewhere) → the process exits.
 */
export class Lifecycle {
  private phase: 'serving' | 'draining' | 'closed' = 'serving';
  private readonly closedListeners: (() => void)[] = [];

  /** False from SIGTERM on: the readiness probe fails. Liveness (`/alive`) is unaffected. */
  get ready(): boolean {
    return this.phase === 'serving';
  }

  /** True once the listener is closed: new WebSocket upgrades on kept-alive connections are refused. */
  get closed(): boolean {
    return this.phase === 'closed';
  }

  startDraining(): void {
    if (this.phase === 'serving') this.phase = 'draining';
  }

  /** Runs `listener` when the listener closes (at once if it already has). */
  onClosed(listener: () => void): void {
    if (this.phase === 'closed') listener();
    else this.closedListeners.push(listener);
  }

  markClosed(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    for (const listener of this.closedListeners.splice(0)) listener();
  }
}

/** Open sockets and in-flight requests of an HTTP(S) server, for the drain. */
export class ConnectionTracker {
  private readonly sockets = new Set<Socket>();
  private active = 0;
  private readonly waiters = new Set<() => void>();

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.settle();
      });
    });
    // The TLS server emits 'secureConnection' with a TLSSocket; its underlying 'connection' is tracked above.
    server.on('request', (_request, response: { once(event: 'close', listener: () => void): void }) => {
      this.active++;
      response.once('close', () => {
        this.active--;
        this.settle();
      });
    });
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Resolves once every socket is closed, or after `ms` (true when everything closed). */
  whenIdle(ms: number): Promise<boolean> {
    if (this.sockets.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.sockets.size > 0) return;
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        resolve(false);
      }, ms);
      this.waiters.add(done);
    });
  }

  private settle(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * Stops accepting connections without touching the open ones. http.Server#close would also close every idle
 * keep-alive connection at once, and a proxy that picked one of them for a request at that moment gets a reset
 * after sending it: nginx then answers 502 to a POST (it never retries non-idempotent requests that were sent).
 * Left open, each is closed by the proxy at its own idle timeout or by `Connection: close` on its next response.
 */
export function stopAccepting(server: Server): void {
  NetServer.prototype.close.call(server, () => undefined);
}
