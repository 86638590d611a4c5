// A production tree works: a scratch copy of the sources, built there (`npm run build` with the repository's
// node_modules), then given `npm ci --omit=dev` (no esbuild, SWC, TypeScript, nx or bw CLI), starts the all-in-one
// with `npm start`'s command and passes /healthz. Building in the copy keeps dist/ and the sources consistent while
// the working tree changes. The install needs the npm registry (or a warm npm cache); without it the test is
// skipped locally and fails with CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
} from 'node:fs';
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

  const tree = mkdtempSync(join(tmpdir(), 'keyhaven-production-tree-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'keyhaven-production-data-'));
  t.after(() => {
    rmSync(tree, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  for (const name of ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'tsconfig.base.json']) {
    cpSync(join(ROOT, name), join(tree, name), { preserveTimestamps: true });
  }
  for (const name of ['apps', 'libs', 'tools']) {
    cpSync(join(ROOT, name), join(tree, name), {
      recursive: true,
      preserveTimestamps: true,
      filter: (source) => !/\/(node_modules|dist|data)(\/|$)|\.spec\.ts$/.test(source.slice(ROOT.length)),
    });
  }
  // The build tools come from the repository; the production install then replaces them.
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'), 'dir');
  const built = spawnSync(process.execPath, ['tools/build/build.mjs'], {
    cwd: tree,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(built.status, 0, `npm run build failed:\n${built.stdout}${built.stderr}`);
  unlinkSync(join(tree, 'node_modules'));

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
