#!/usr/bin/env node
// `npm run build`: compiles every app (apps/*/src/main.ts) and the operator CLI (tools/cli/src/main.ts) into one
// JavaScript file each under dist/, with the @keyhaven/* path aliases resolved and packages left to node_modules.
//
//   node tools/build/build.mjs              build
//   node tools/build/build.mjs --if-stale   build only when dist/ is missing or older than the sources
//
// esbuild bundles; every .ts file goes through SWC first because esbuild does not emit decorator metadata
// (design:paramtypes), which Nest's dependency injection reads. The SWC settings are those @swc-node/register
// derives from tsconfig.base.json for the tests: legacy decorators, decorator metadata, ES2022 class fields.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildKey, distDir, entries, freshness, root, stampFile } from './freshness.mjs';

function swcOptions(filename) {
  return {
    filename,
    swcrc: false,
    configFile: false,
    sourceMaps: 'inline',
    inlineSourcesContent: false,
    module: { type: 'es6' },
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      target: 'es2022',
      keepClassNames: true,
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: true },
    },
  };
}

/** Transforms workspace TypeScript with SWC; esbuild then resolves, bundles and writes. */
function swcPlugin(swc) {
  return {
    name: 'swc-decorator-metadata',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes('/node_modules/') || args.path.endsWith('.d.ts')) return undefined;
        const source = readFileSync(args.path, 'utf8');
        const { code } = await swc.transform(source, swcOptions(args.path));
        // Loaded as TypeScript, not JavaScript: SWC, having no type information, references imported types in
        // decorator metadata as `typeof T === "undefined" ? Object : T`; esbuild lets such a missing export of a
        // TypeScript module be undefined (it may be a type), as the CommonJS output did, instead of failing.
        return { contents: code, loader: 'ts' };
      });
    },
  };
}

/** Writes a file so a process starting at the same moment reads the old or the new one, never half of one. */
function writeAtomically(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

function filesUnder(dir) {
  let names;
  try {
    names = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return names.flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name)) : [join(dir, d.name)]));
}

export async function build({ quiet = false } = {}) {
  const startedAt = Date.now();
  const began = performance.now();
  const [{ build: esbuild }, swc] = await Promise.all([import('esbuild'), import('@swc/core')]);
  const list = entries();
  const key = buildKey();
  const result = await esbuild({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(list.map((e) => [e.output.replace(/\.js$/, ''), e.source])),
    outdir: distDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Every package stays a require() of node_modules; only the workspace (paths from tsconfig) is bundled.
    packages: 'external',
    // import('pkg') becomes require('pkg'), the CommonJS interop SWC gives the same code under the unit tests.
    supported: { 'dynamic-import': false },
    tsconfig: join(root, 'tsconfig.json'),
    // Nest reads class names (provider tokens, log contexts); bundling would otherwise rename clashing ones.
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    // Decorator metadata calls Reflect.metadata while the modules load: the polyfill comes before anything else.
    banner: { js: '"use strict";\nrequire("reflect-metadata");' },
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [swcPlugin(swc)],
  });
  const outputs = [];
  for (const file of result.outputFiles) {
    writeAtomically(file.path, file.contents);
    outputs.push(relative(distDir, file.path));
  }
  const produced = new Set(outputs.map((o) => join(distDir, o)));
  for (const dir of ['apps', 'tools']) {
    for (const file of filesUnder(join(distDir, dir))) {
      if (!produced.has(file) && !file.endsWith('.tmp')) rmSync(file, { force: true });
    }
  }
  const inputs = Object.keys(result.metafile.inputs)
    .filter((input) => !input.includes('node_modules/'))
    .sort();
  writeAtomically(stampFile, `${JSON.stringify({ key, startedAt, inputs, outputs: outputs.sort() }, null, 2)}\n`);
  const ms = Math.round(performance.now() - began);
  if (!quiet) {
    console.log(`built ${list.length} entries from ${inputs.length} files into dist/ in ${ms} ms`);
  }
  return { ms, inputs, outputs };
}

if (process.argv[1] && relative(process.argv[1], import.meta.filename) === '') {
  const ifStale = process.argv.includes('--if-stale');
  const state = ifStale ? freshness() : { fresh: false };
  if (!state.fresh) {
    if (ifStale) console.log(`building dist/: ${state.reason}`);
    build().catch((error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
  }
}
