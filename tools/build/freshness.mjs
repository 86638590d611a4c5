// What `npm run build` produces and whether dist/ is current. Plain Node, no dependencies: the start wrapper
// loads this in production trees, which have no devDependencies.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../..');
export const distDir = join(root, 'dist');
export const stampFile = join(distDir, 'build-stamp.json');

/** Files whose content changes what the build emits, beyond the sources themselves. */
const CONFIG_FILES = [
  'tools/build/build.mjs',
  'tools/build/freshness.mjs',
  'tsconfig.json',
  'tsconfig.base.json',
  'package-lock.json',
];

/**
 * Every entry point, by name: each app under apps/ (`server` is the all-in-one) and `cli`, the operator CLI.
 * `source` is relative to the repository, `output` relative to dist/.
 */
export function entries(base = root) {
  const apps = existsSync(join(base, 'apps'))
    ? readdirSync(join(base, 'apps'))
        .filter((name) => existsSync(join(base, 'apps', name, 'src', 'main.ts')))
        .sort()
        .map((name) => ({ name, source: `apps/${name}/src/main.ts`, output: `apps/${name}/main.js` }))
    : [];
  return [...apps, { name: 'cli', source: 'tools/cli/src/main.ts', output: 'tools/cli/main.js' }];
}

/** The compiled file of an entry (`server`, `api`, …, `cli`), absolute. */
export function distEntry(name, base = root) {
  return join(base, 'dist', name === 'cli' ? 'tools/cli/main.js' : `apps/${name}/main.js`);
}

/** A digest of what the build is made of besides the sources: the entry list and the build configuration. */
export function buildKey(base = root) {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(entries(base)));
  for (const file of CONFIG_FILES) {
    hash.update(`\0${file}\0`);
    if (existsSync(join(base, file))) hash.update(readFileSync(join(base, file)));
  }
  return hash.digest('hex');
}

function readStamp(base) {
  try {
    return JSON.parse(readFileSync(join(base, 'dist', 'build-stamp.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Whether dist/ matches the tree: `{ fresh, reason }`. Stale when there is no stamp, when the stamp was made from a
 * different entry list or build configuration, when an output is missing, or when an input file was removed or
 * changed after the build started. A tree without sources (a production copy holding only dist/) is fresh as long
 * as its outputs exist.
 */
export function freshness(base = root) {
  const stamp = readStamp(base);
  if (!stamp || !Array.isArray(stamp.inputs) || !Array.isArray(stamp.outputs)) {
    return { fresh: false, reason: 'no build in dist/' };
  }
  for (const output of stamp.outputs) {
    if (!existsSync(join(base, 'dist', output))) return { fresh: false, reason: `dist/${output} is missing` };
  }
  const sourcesPresent =
    existsSync(join(base, 'tsconfig.base.json')) || stamp.inputs.some((input) => existsSync(join(base, input)));
  if (!sourcesPresent) return { fresh: true, reason: 'no sources here: dist/ as shipped' };
  if (stamp.key !== buildKey(base))
    return { fresh: false, reason: 'the entry points or the build configuration changed' };
  // The configuration is compared by content (the key); sources by time, which is cheap for a few hundred files.
  for (const input of stamp.inputs) {
    let mtime;
    try {
      mtime = statSync(join(base, input)).mtimeMs;
    } catch {
      return { fresh: false, reason: `${input} was removed` };
    }
    if (mtime > stamp.startedAt) return { fresh: false, reason: `${input} changed` };
  }
  return { fresh: true, reason: 'up to date' };
}
