// A production tree works: a scratch copy holding dist/, the sources and `npm ci --omit=dev` (no esbuild, SWC,
// TypeScript, nx or bw CLI) starts the all-in-one with `npm start`'s command and passes /healthz. The install needs
// the npm registry (or a warm npm cache); without it the test is skipped locally and fails with CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, HttpClient } from '@keyhaven/testing';

const ROOT = resolve(__dirname, '../..');
const BUILD_TOOLS = ['esbuild', '@swc/core', '@swc-node/register', 'typescript', 'nx', '@bitwarden/cli'];
const NETWORK_ERROR = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network/i;

/** Bytes under a directory (files only, symlinks not followed): what `du` would count, give or take blocks. */
function sizeOf(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += sizeOf(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

void test('a production tree (npm ci --omit=dev plus dist/) starts the all-in-one and passes /healthz', async (t) => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const start = (manifest.scripts.start ?? '').split(/\s+/);
  assert.equal(start[0], 'node', 'npm start is expected to run node');
  assert.ok(existsSync(join(ROOT, 'dist/build-stamp.json')), 'no dist/: the test runner builds it first');

  const tree = mkdtempSync(join(tmpdir(), 'keyhaven-production-tree-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'keyhaven-production-data-'));
  t.after(() => {
    rmSync(tree, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  // Modification times are kept, so the start wrapper finds dist/ as fresh as it is here.
  for (const name of [
    'package.json',
    'package-lock.json',
    '.npmrc',
    'tsconfig.json',
    'tsconfig.base.json',
    'apps',
    'libs',
    'tools',
    'dist',
  ]) {
    cpSync(join(ROOT, name), join(tree, name), {
      recursive: true,
      preserveTimestamps: true,
      filter: (source) => !/(^|\/)(node_modules|data)(\/|$)/.test(source.slice(ROOT.length)),
    });
  }

  const install = spawnSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: tree,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, NODE_ENV: 'production', npm_config_update_notifier: 'false' },
  });
  if (install.status !== 0 && NETWORK_ERROR.test(install.stderr) && process.env.CI !== 'true') {
    t.skip(`npm ci could not reach the registry: ${install.stderr.trim().split('\n').at(-1) ?? ''}`);
    return;
  }
  assert.equal(install.status, 0, `npm ci --omit=dev failed:\n${install.stderr}`);
  for (const tool of BUILD_TOOLS) {
    assert.ok(!existsSync(join(tree, 'node_modules', tool)), `${tool} is in the production tree`);
  }
  t.diagnostic(
    `production tree: node_modules ${mb(sizeOf(join(tree, 'node_modules')))}, dist ${mb(sizeOf(join(tree, 'dist')))}`,
  );

  const port = await freePort();
  const url = `https://localhost:${port}`;
  const child = spawn(process.execPath, start.slice(1), {
    cwd: tree,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DOMAIN: url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  const began = Date.now();
  let healthz = 0;
  while (Date.now() - began < 90_000) {
    if (child.exitCode !== null) assert.fail(`the server exited with ${child.exitCode}:\n${output}`);
    try {
      healthz = (await new HttpClient(url, join(dataDir, 'tls', 'ca.pem')).get('/healthz')).status;
      if (healthz === 200) break;
    } catch {
      // not listening yet (or the CA is not written yet)
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(healthz, 200, `no 200 from /healthz within 90 s:\n${output}`);
  t.diagnostic(`first start to a healthy /healthz: ${Date.now() - began} ms`);
  assert.doesNotMatch(output, /building dist/, 'the start wrapper rebuilt dist/ in a production tree');
  child.kill('SIGTERM');
  assert.equal(await exited, 0, `SIGTERM did not end the server cleanly:\n${output}`);

  // A stale dist/ in a tree without build tools is refused with the way out, not half-started.
  const source = join(tree, 'apps/server/src/main.ts');
  utimesSync(source, new Date(), new Date(Date.now() + 60_000));
  const stale = spawnSync(process.execPath, start.slice(1), { cwd: tree, encoding: 'utf8', timeout: 30_000 });
  assert.equal(stale.status, 1);
  assert.match(stale.stderr, /apps\/server\/src\/main\.ts changed\) and the build tools are not installed/);
});
