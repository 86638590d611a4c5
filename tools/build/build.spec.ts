// `npm run build` and the start wrapper's freshness check, on a scratch copy of the sources (node_modules linked
// from the repository), so nothing here touches the repository's own dist/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const COPIED = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json', 'apps', 'libs', 'tools'];

interface Freshness {
  fresh: boolean;
  reason: string;
}

interface Stamp {
  inputs: string[];
  outputs: string[];
  startedAt: number;
}

/** A copy of the sources with their modification times, and the repository's node_modules. */
function scratchTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyhaven-build-spec-'));
  for (const name of COPIED) {
    cpSync(join(ROOT, name), join(dir, name), {
      recursive: true,
      preserveTimestamps: true,
      filter: (source) => !/(^|\/)(node_modules|dist|data)(\/|$)|\.spec\.ts$/.test(source.slice(ROOT.length)),
    });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

function node(cwd: string, args: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

function freshness(tree: string): Freshness {
  const run = node(tree, [
    '--input-type=module',
    '-e',
    `import { freshness } from ${JSON.stringify(join(tree, 'tools/build/freshness.mjs'))};
     console.log(JSON.stringify(freshness()));`,
  ]);
  assert.equal(run.status, 0, run.output);
  return JSON.parse(run.output) as Freshness;
}

function stamp(tree: string): Stamp {
  return JSON.parse(readFileSync(join(tree, 'dist/build-stamp.json'), 'utf8')) as Stamp;
}

void describe('npm run build', () => {
  let tree = '';
  before(() => {
    tree = scratchTree();
    const built = node(tree, ['tools/build/build.mjs']);
    assert.equal(built.status, 0, built.output);
    assert.match(built.output, /^built \d+ entries from \d+ files into dist\/ in \d+ ms$/m);
  });
  after(() => {
    if (tree) rmSync(tree, { recursive: true, force: true });
  });

  void test('compiles every app and the operator CLI to one JavaScript file each, with a source map', () => {
    const apps = readdirSync(join(tree, 'apps')).filter((name) => existsSync(join(tree, 'apps', name, 'src/main.ts')));
    assert.ok(apps.includes('server') && apps.includes('api') && apps.length >= 11, `apps: ${apps.join(', ')}`);
    const expected = [...apps.map((name) => `apps/${name}/main.js`), 'tools/cli/main.js'];
    for (const output of expected) {
      assert.ok(existsSync(join(tree, 'dist', output)), `dist/${output} is missing`);
      assert.ok(existsSync(join(tree, 'dist', `${output}.map`)), `dist/${output}.map is missing`);
    }
    assert.deepEqual(
      stamp(tree).outputs.filter((o) => o.endsWith('.js')),
      expected.sort(),
    );
  });

  void test('loads reflect-metadata first, resolves the @keyhaven/* aliases, leaves packages to node_modules', () => {
    for (const output of stamp(tree).outputs.filter((o) => o.endsWith('.js'))) {
      const code = readFileSync(join(tree, 'dist', output), 'utf8');
      assert.ok(code.startsWith('"use strict";\nrequire("reflect-metadata");\n'), `${output} does not start so`);
      assert.doesNotMatch(code, /require\(["']@keyhaven\//, `${output} still requires a workspace alias`);
      assert.doesNotMatch(code, /require\(["']\.{1,2}\//, `${output} requires a relative file`);
      assert.match(code, /require\("@nestjs\/(core|common)"\)/, `${output}: Nest is not external`);
    }
  });

  void test('every package the compiled apps load is a production dependency (the image has no others)', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const loaded = new Set<string>();
    for (const output of stamp(tree).outputs.filter((o) => o.endsWith('.js'))) {
      const code = readFileSync(join(tree, 'dist', output), 'utf8');
      for (const m of code.matchAll(/\b(?:require|import)\("([^"./][^"]*)"\)/g)) {
        const specifier = m[1] ?? '';
        if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        const parts = specifier.split('/');
        loaded.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? ''));
      }
    }
    assert.ok(loaded.has('@nestjs/core') && loaded.has('reflect-metadata'), [...loaded].join(', '));
    const missing = [...loaded].filter((name) => manifest.dependencies[name] === undefined).sort();
    assert.deepEqual(missing, [], `loaded at runtime but not in dependencies: ${missing.join(', ')}`);
  });

  void test('keeps the constructor parameter types Nest injects by (design:paramtypes) and the class names', () => {
    const server = readFileSync(join(tree, 'dist/apps/server/main.js'), 'utf8');
    assert.match(server, /"design:paramtypes"/);
    // A provider whose constructor takes the data source: its metadata names the class, not Object.
    assert.match(server, /"design:paramtypes", \[\s*[^\]]*\bDataSource\b/);
    assert.match(server, /__name\(|class \w+/);
  });

  void test('the compiled operator CLI runs with node alone', () => {
    const run = node(tree, ['dist/tools/cli/main.js']);
    assert.equal(run.status, 2);
    // Without a command the operator CLI prints its usage (every command listed) and exits 2.
    assert.match(run.output, /Usage: keyhaven \[options\] \[command\][\s\S]*\bmigrate\b/);
  });

  void test('dist/ is fresh after a build and stale once a source or the configuration changes', () => {
    assert.deepEqual(freshness(tree), { fresh: true, reason: 'up to date' });
    const { inputs, startedAt } = stamp(tree);
    const source = inputs.find((i) => i.startsWith('libs/'));
    assert.ok(source, 'the stamp lists no library sources');
    assert.ok(inputs.includes('apps/server/src/main.ts') && inputs.includes('tools/cli/src/main.ts'));

    // A source edited after the build started.
    utimesSync(join(tree, source), new Date(), new Date(startedAt + 60_000));
    assert.deepEqual(freshness(tree), { fresh: false, reason: `${source} changed` });
    utimesSync(join(tree, source), new Date(), new Date(startedAt - 60_000));
    assert.equal(freshness(tree).fresh, true);

    // A source removed (a file the build read no longer exists).
    renameSync(join(tree, source), join(tree, `${source}.moved`));
    assert.deepEqual(freshness(tree), { fresh: false, reason: `${source} was removed` });
    renameSync(join(tree, `${source}.moved`), join(tree, source));

    // Another set of entries: a new app.
    mkdirSync(join(tree, 'apps/zz-new/src'), { recursive: true });
    writeFileSync(join(tree, 'apps/zz-new/src/main.ts'), 'export {};\n');
    assert.equal(freshness(tree).fresh, false);
    rmSync(join(tree, 'apps/zz-new'), { recursive: true });

    // The build configuration (compared by content, whatever the time says).
    const base = readFileSync(join(tree, 'tsconfig.base.json'), 'utf8');
    writeFileSync(join(tree, 'tsconfig.base.json'), `${base}\n`);
    utimesSync(join(tree, 'tsconfig.base.json'), new Date(), new Date(startedAt - 60_000));
    assert.equal(freshness(tree).fresh, false);
    writeFileSync(join(tree, 'tsconfig.base.json'), base);
    assert.equal(freshness(tree).fresh, true);

    // An output deleted.
    renameSync(join(tree, 'dist/apps/api/main.js'), join(tree, 'dist/apps/api/main.js.moved'));
    assert.deepEqual(freshness(tree), { fresh: false, reason: 'dist/apps/api/main.js is missing' });
    renameSync(join(tree, 'dist/apps/api/main.js.moved'), join(tree, 'dist/apps/api/main.js'));
    assert.equal(freshness(tree).fresh, true);
  });

  void test('--if-stale does nothing when dist/ is fresh, and rebuilds after an edit', () => {
    const before = stamp(tree).startedAt;
    const idle = node(tree, ['tools/build/build.mjs', '--if-stale']);
    assert.equal(idle.status, 0, idle.output);
    assert.equal(idle.output, '');
    assert.equal(stamp(tree).startedAt, before);

    const source = join(tree, 'apps/server/src/main.ts');
    utimesSync(source, new Date(), new Date(before + 60_000));
    const rebuilt = node(tree, ['tools/build/build.mjs', '--if-stale']);
    assert.equal(rebuilt.status, 0, rebuilt.output);
    assert.match(rebuilt.output, /building dist\/: apps\/server\/src\/main\.ts changed/);
    utimesSync(source, new Date(), new Date(before));
    assert.ok(stamp(tree).startedAt > before);
    assert.equal(freshness(tree).fresh, true);
  });

  void test('a tree holding dist/ without the sources runs dist/ as shipped', () => {
    const shipped = mkdtempSync(join(tmpdir(), 'keyhaven-build-shipped-'));
    try {
      cpSync(join(tree, 'dist'), join(shipped, 'dist'), { recursive: true, preserveTimestamps: true });
      mkdirSync(join(shipped, 'tools/build'), { recursive: true });
      for (const file of ['start.mjs', 'freshness.mjs']) {
        cpSync(join(tree, 'tools/build', file), join(shipped, 'tools/build', file));
      }
      symlinkSync(join(ROOT, 'node_modules'), join(shipped, 'node_modules'), 'dir');
      assert.deepEqual(freshness(shipped), { fresh: true, reason: 'no sources here: dist/ as shipped' });
      const run = node(shipped, ['tools/build/start.mjs', 'cli']);
      assert.equal(run.status, 2, run.output);
      assert.match(run.output, /Usage: keyhaven \[options\] \[command\]/);
      rmSync(join(shipped, 'dist/build-stamp.json'));
      const unbuilt = node(shipped, ['tools/build/start.mjs', 'cli']);
      assert.equal(unbuilt.status, 1, unbuilt.output);
      assert.match(unbuilt.output, /dist\/ needs a build \(no build in dist\/\) and the build tools are not installed/);
    } finally {
      rmSync(shipped, { recursive: true, force: true });
    }
  });
});
