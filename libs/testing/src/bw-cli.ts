import { execFile, spawn } from 'node:child_process';
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

  /**
   * Runs a command on a pseudo-terminal (util-linux `script`), so the CLI believes a person is there
   * and asks its questions; `answer` sees the output so far and returns the line to type once its
   * question has appeared (null: not yet). For prompts the CLI has no flag for (new-device codes).
   */
  runOnTerminal(
    args: string[],
    answer: (output: string) => Promise<string | null>,
    options: { timeoutMs?: number; env?: Record<string, string> } = {},
  ): Promise<BwResult> {
    const env: Record<string, string> = {
      ...inheritedEnvironment(['BW_SESSION', 'BW_CLIENTID', 'BW_CLIENTSECRET', 'BW_PASSWORD']),
      BITWARDENCLI_APPDATA_DIR: this.appDataDir,
      TERM: 'dumb',
      ...(this.caPath ? { NODE_EXTRA_CA_CERTS: this.caPath } : {}),
      ...options.env,
    };
    const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, '--no-deprecation', BW_ENTRY, ...args].map(quote).join(' ');
    return new Promise((resolve) => {
      const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let answered = false;
      let asking = false;
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        if (answered || asking) return;
        asking = true;
        void answer(stdout).then(
          (line) => {
            asking = false;
            if (line === null || answered) return;
            answered = true;
            child.stdin.write(`${line}\r`);
          },
          () => {
            asking = false;
            child.kill('SIGKILL');
          },
        );
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 1, stdout, stderr });
      });
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
