#!/usr/bin/env node
// Runs every *.spec.ts (or those under the given paths) with node's test runner, TypeScript compiled by SWC,
// and ends with the line `N passed, N failed` that CI reads.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const skipDirs = new Set(['node_modules', 'dist', 'data', '.git', '.nx', 'tmp', 'coverage']);

function findSpecs(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skipDirs.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findSpecs(path, out);
    else if (name.endsWith('.spec.ts')) out.push(relative(root, path));
  }
  return out;
}

const args = process.argv.slice(2);
const targets = args.length > 0 ? args : ['apps', 'libs', 'tools'];
const specs = targets.flatMap((t) => (t.endsWith('.spec.ts') ? [t] : findSpecs(resolve(root, t), []))).sort();
if (specs.length === 0) {
  console.error('no spec files found under', targets.join(' '));
  process.exit(1);
}

// The specs boot the apps from dist/ (libs/testing/src/server-process.ts): build it first if it is missing or stale.
const built = spawnSync(process.execPath, [join(root, 'tools/build/build.mjs'), '--if-stale'], { stdio: 'inherit' });
if (built.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(
  process.execPath,
  [
    '--require',
    'reflect-metadata',
    '--require',
    '@swc-node/register',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    ...specs,
  ],
  {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SWC_NODE_PROJECT: join(root, 'tsconfig.json') },
  },
);

let passed = 0;
let failed = 0;
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  // The summary comes before the failure report, which can be long: keep plenty.
  tail = (tail + chunk.toString()).slice(-4_000_000);
});
child.on('close', (code) => {
  // The spec reporter ends with `ℹ pass N` / `ℹ fail N` (and cancelled counts as failed).
  const count = (label) => {
    const matches = [...tail.matchAll(new RegExp(`^\\S* ?${label} (\\d+)$`, 'gm'))];
    return Number(matches.at(-1)?.[1] ?? 0);
  };
  passed = count('pass');
  failed = count('fail') + count('cancelled');
  if (code !== 0 && failed === 0) failed = 1;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code ?? 1);
});
