import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './server-process';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own (initdb into a temporary directory, its own port, trust on loopback),
 * so an outage test can stop and restart the server without touching the machine's shared one. Needs
 * PostgreSQL's server binaries (/usr/lib/postgresql/<version>/bin, Debian's postgresql package). As root the
 * server runs as the `postgres` user, since PostgreSQL refuses to run as root.
 */
export interface PrivatePostgres {
  readonly url: string;
  /** `pg_ctl stop -m fast`: sessions are terminated (57P01), new connections refused until `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

function serverBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  if (!newest) throw new Error(`no PostgreSQL server binaries under ${root}`);
  return join(root, newest, 'bin');
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = serverBin();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'keyhaven-private-pg-'));
  const asRoot = process.getuid?.() === 0;
  const as = async (command: string, args: string[]): Promise<void> => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]]
      : [join(bin, command), args];
    await run(file, argv, { timeout: 120_000 });
  };
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  await as('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const options = [
    `-p ${String(port)}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c shared_buffers=16MB',
    '-c max_connections=60',
  ].join(' ');
  const start = (): Promise<void> =>
    as('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', join(dir, 'log'), '-o', options]);
  const stop = (): Promise<void> => as('pg_ctl', ['stop', '-D', data, '-w', '-t', '60', '-m', 'fast']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${String(port)}/postgres`,
    stop,
    start,
    destroy: async () => {
      await as('pg_ctl', ['stop', '-D', data, '-w', '-t', '30', '-m', 'immediate']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
