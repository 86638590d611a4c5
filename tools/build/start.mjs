#!/usr/bin/env node
// Runs a compiled entry from dist/, building it first when dist/ is missing or stale (a fresh clone after `npm ci`,
// or sources edited since the last build):
//
//   node tools/build/start.mjs server            the all-in-one (npm start)
//   node tools/build/start.mjs api               a split service
//   node tools/build/start.mjs cli migrate       the operator CLI (npm run migrate)
//
// When dist/ is current nothing but this file and freshness.mjs is loaded: production trees have no
// devDependencies (esbuild, SWC). The build runs in a child process so the server does not keep them in memory.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { distEntry, freshness, root } from './freshness.mjs';

const [name = 'server', ...args] = process.argv.slice(2);
const entry = distEntry(name);

const state = freshness();
if (!state.fresh) {
  const builder = join(root, 'tools', 'build', 'build.mjs');
  const tools = [builder, join(root, 'node_modules', 'esbuild'), join(root, 'node_modules', '@swc', 'core')];
  if (!tools.every((path) => existsSync(path))) {
    process.stderr.write(
      `keyhaven: dist/ needs a build (${state.reason}) and the build tools are not installed: run \`npm ci && npm run build\`\n`,
    );
    process.exit(1);
  }
  process.stderr.write(`keyhaven: building dist/ (${state.reason})\n`);
  const built = spawnSync(process.execPath, [builder], { stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

if (!existsSync(entry)) {
  process.stderr.write(`keyhaven: no app named ${name} (${entry} does not exist)\n`);
  process.exit(2);
}

// The entry sees the arguments as if it had been started directly: `node dist/tools/cli/main.js migrate`.
process.argv = [process.argv[0] ?? process.execPath, entry, ...args];
createRequire(import.meta.url)(entry);
