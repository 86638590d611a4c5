import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inheritedEnvironment } from '@keyhaven/config';
import { repoRoot } from './server-process';

export interface BwResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const BW_ENTRY = join(repoRoot, 'node_modules', '@bitwarden', 'cli', 'build', 'bw.js');

/** The real `bw` CLI from npm, with its own data directory, trusting the test server's CA. */
export class BwCli {
  readonly appDataDir = mkdtempSync(join(tmpdir(), 'keyhaven-bw-'));
  session: string | undefined;

  constructor(private readonly caPath: string | undefined) {}

  run(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<BwResult> {
    const env: Record<string, string> = {
      ...inheritedEnvironment(['BW_SESSION', 'BW_CLIENTID', 'BW_CLIENTSECRET', 'BW_PASSWORD']),
      BITWARDENCLI_APPDATA_DIR: this.appDataDir,
      BW_NOINTERACTION: 'true',
      ...(this.caPath ? { NODE_EXTRA_CA_CERTS: this.caPath } : {}),
      ...(this.session ? { BW_SESSION: this.session } : {}),
      ...options.env,
    };
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--no-deprecation', BW_ENTRY, ...args],
        { env, timeout: options.timeoutMs ?? 90_000, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  /** Runs a command that must succeed; returns its stdout. */
  async ok(args: string[], options?: { env?: Record<string, string> }): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) {
      throw new Error(`bw ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    return result.stdout;
  }

  async json<T>(args: string[], options?: { env?: Record<string, string> }): Promise<T> {
    return JSON.parse(await this.ok([...args, '--raw'], options)) as T;
  }

  cleanup(): void {
    rmSync(this.appDataDir, { recursive: true, force: true });
  }
}
