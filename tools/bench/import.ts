/**
 * Import benchmark: `keyhaven import` of a LastPass CSV (default 10,000 rows, realistic: quoting,
 * multi-line notes, Unicode, empty fields) into a fresh account on the compiled all-in-one (embedded
 * database): items per second end to end (login, vault decryption for deduplication, local encryption,
 * batched upload) and the CLI's peak resident memory; then the same file again, which must add nothing
 * (the cost of deduplicating against a full vault).
 *
 *   npm run bench:import
 *   npm run bench:import -- --rows 20000
 *
 * Loopback only; the data directory and the file are removed at the end.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { inheritedEnvironment } from '@keyhaven/config';
import { lastPassCsv, registerAccount, repoRoot, sampleLogins, startServer } from '@keyhaven/testing';

const argv = process.argv.slice(2);
const rowsAt = argv.indexOf('--rows');
const rows = Math.min(50_000, Math.max(1, Number(rowsAt >= 0 ? argv[rowsAt + 1] : 10_000) || 10_000));
const PASSWORD = 'bench import master password';

function run(
  args: string[],
  caPath: string | undefined,
  preload: string,
): Promise<{ ms: number; maxRssMiB: number; stdout: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--require', preload, join(repoRoot, 'dist', 'tools', 'cli', 'main.js'), ...args],
      {
        env: { ...inheritedEnvironment(['KEYHAVEN_PASSWORD']), ...(caPath ? { NODE_EXTRA_CA_CERTS: caPath } : {}) },
        maxBuffer: 64 << 20,
      },
      (error, stdout, stderr) => {
        const rss = /maxrss (\d+)/.exec(stderr);
        if (error && !stdout) {
          reject(new Error(`keyhaven import failed: ${stderr.slice(-500)}`));
          return;
        }
        resolve({ ms: performance.now() - started, maxRssMiB: Number(rss?.[1] ?? 0) / 1024, stdout });
      },
    );
  });
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-bench-import-'));
  const server = await startServer();
  try {
    await registerAccount(server.http, 'bench-import@example.com', PASSWORD);
    const file = join(scratch, 'lastpass.csv');
    writeFileSync(file, lastPassCsv(sampleLogins(rows)));
    const passwordFile = join(scratch, 'password');
    writeFileSync(passwordFile, PASSWORD);
    // The child reports its own peak RSS (kilobytes) as it exits.
    const preload = join(scratch, 'rss.cjs');
    writeFileSync(
      preload,
      "process.on('exit', () => process.stderr.write(`maxrss ${process.resourceUsage().maxRSS}\\n`));\n",
    );
    const args = [
      'import',
      '--server',
      server.url,
      '--email',
      'bench-import@example.com',
      '--password-file',
      passwordFile,
      '--format',
      'lastpass',
      '--json',
      file,
    ];
    const first = await run(args, server.caPath, preload);
    const created = (JSON.parse(first.stdout) as { created: number }).created;
    const second = await run(args, server.caPath, preload);
    const again = JSON.parse(second.stdout) as { created: number; duplicatesInVault: number };
    const line = (label: string, r: { ms: number; maxRssMiB: number }, n: number) =>
      `${label.padEnd(28)} ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${((n * 1000) / r.ms).toFixed(0).padStart(6)} items/s  peak RSS ${r.maxRssMiB.toFixed(0)} MiB`;
    process.stdout.write(
      [
        `keyhaven import, LastPass CSV, ${rows} rows (compiled all-in-one, embedded database, loopback)`,
        line(`first run (${created} created)`, first, rows),
        line(`second run (${again.created} created)`, second, rows),
        ...(created !== rows || again.created !== 0 ? ['UNEXPECTED: the counts are wrong'] : []),
      ].join('\n') + '\n',
    );
  } finally {
    await server.stop();
    server.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
