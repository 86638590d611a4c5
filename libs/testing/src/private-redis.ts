import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './server-process';

/**
 * A redis-server of the test's own on a free port (no persistence), so an outage test can stop and start
 * Redis without touching the machine's shared one. `stop()` kills it; `start()` brings it back, empty, on the
 * same port, as a restarted cache without persistence would be.
 */
export interface PrivateRedis {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    if (child) return;
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
      { stdio: 'ignore' },
    );
    child = started;
    // Bounded: 10 s for a local redis-server to listen.
    for (let i = 0; i < 100 && !(await accepting(port)); i++) {
      if (started.exitCode !== null) throw new Error(`redis-server exited with ${String(started.exitCode)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!(await accepting(port))) throw new Error(`redis-server not listening on ${String(port)} within 10 s`);
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${String(port)}`, stop, start };
}
