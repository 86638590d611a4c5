#!/usr/bin/env node
// Runs the spec files with node's test runner, TypeScript compiled by SWC, and ends with the line
// `N passed, N failed, N skipped` that CI reads.
//
//   node tools/test/run.mjs [--unit | --e2e] [path …]      (paths: spec files or folders; default apps libs tools)
//
// Two tiers, told apart by file name: `*.unit.spec.ts` is the fast in-process tier, every other
// `*.spec.ts` is end-to-end (real processes, real services). `--unit` or `--e2e` runs one tier;
// without either the unit tier runs first, then the e2e tier, and the counts add up.
// The unit tier is one node:test run over all its files, one file per core at a time. E2E files run
// in a pool, TEST_CONCURRENCY at a time (default: twice the number of cores), longest first by the seconds
// of earlier runs (this checkout's in tmp/test-durations.json, else the committed tools/test/durations.json);
// each file's report is printed in one piece when it ends.
// A job still running after TEST_FILE_TIMEOUT_SECONDS (default 1200) is stopped and counts as failed.
// Counting (skips, todos, hook failures) is tools/test/count-reporter.mjs.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const skipDirs = new Set(['node_modules', 'dist', 'data', '.git', '.nx', 'tmp', 'coverage']);
const UNIT_SUFFIX = '.unit.spec.ts';
const durationsFile = join(root, 'tmp', 'test-durations.json');
const seedDurationsFile = join(root, 'tools', 'test', 'durations.json');

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
const flags = new Set(args.filter((a) => a.startsWith('--')));
for (const flag of flags) {
  if (flag !== '--unit' && flag !== '--e2e') {
    console.error(`unknown option ${flag} (use --unit or --e2e)`);
    process.exit(2);
  }
}
const paths = args.filter((a) => !a.startsWith('--'));
const targets = paths.length > 0 ? paths : ['apps', 'libs', 'tools'];
const specs = [
  ...new Set(
    targets.flatMap((t) => (t.endsWith('.spec.ts') ? [relative(root, resolve(t))] : findSpecs(resolve(root, t), []))),
  ),
].sort();
const wantUnit = flags.has('--unit') || !flags.has('--e2e');
const wantE2e = flags.has('--e2e') || !flags.has('--unit');
const unitSpecs = wantUnit ? specs.filter((s) => s.endsWith(UNIT_SUFFIX)) : [];
const e2eSpecs = wantE2e ? specs.filter((s) => !s.endsWith(UNIT_SUFFIX)) : [];
if (unitSpecs.length + e2eSpecs.length === 0) {
  console.error('no spec files found under', targets.join(' '), [...flags].join(' '));
  process.exit(1);
}

// The specs boot the apps from dist/ (libs/testing/src/server-process.ts): build it first if it is missing or stale.
if (e2eSpecs.length > 0) {
  const built = spawnSync(process.execPath, [join(root, 'tools/build/build.mjs'), '--if-stale'], { stdio: 'inherit' });
  if (built.status !== 0) {
    console.log('0 passed, 1 failed, 0 skipped');
    process.exit(1);
  }
}

const cores = availableParallelism();
// An e2e file spends much of its time waiting on its servers, the bw CLI and timers. On the 2-core CI machine
// one file per core put the e2e tier at about 47 minutes, near CI's hour; two per core had taken about 25.
const poolSize = Math.max(1, Number(process.env.TEST_CONCURRENCY ?? cores * 2) || cores * 2);
const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-test-run-'));
let jobCount = 0;
/** A job (one e2e file, or the whole unit tier) still running after this long is stopped and fails. */
const jobTimeoutMs = Math.max(1, Number(process.env.TEST_FILE_TIMEOUT_SECONDS ?? 1200) || 1200) * 1000;

// Each job runs in its own process group (servers and bw processes included), so a hung job can be
// stopped whole; an interrupted run stops its jobs the same way.
const running = new Set();
const stopGroup = (pid, signal) => {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const pid of running) stopGroup(pid, 'SIGKILL');
    rmSync(scratch, { recursive: true, force: true });
    process.exit(130);
  });
}

/**
 * One `node --test` over `files`: the spec reporter for people, the count reporter into a file.
 * With `stream` the output goes straight to ours; otherwise it comes back with the counts.
 */
function runNodeTest(files, concurrency, stream) {
  const countFile = join(scratch, `counts-${(jobCount += 1)}.json`);
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
      '--test-reporter-destination=stdout',
      `--test-reporter=${join(root, 'tools/test/count-reporter.mjs')}`,
      `--test-reporter-destination=${countFile}`,
      ...files,
    ],
    {
      cwd: root,
      stdio: ['ignore', stream ? 'inherit' : 'pipe', stream ? 'inherit' : 'pipe'],
      env: { ...process.env, SWC_NODE_PROJECT: join(root, 'tsconfig.json') },
      detached: true,
    },
  );
  running.add(child.pid);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stopGroup(child.pid, 'SIGTERM');
    setTimeout(() => stopGroup(child.pid, 'SIGKILL'), 10_000).unref();
  }, jobTimeoutMs);
  const chunks = [];
  child.stdout?.on('data', (c) => chunks.push(c));
  child.stderr?.on('data', (c) => chunks.push(c));
  return new Promise((done) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child.pid);
      if (timedOut) {
        const note = `\n✖ ${files.join(' ')}: stopped after ${jobTimeoutMs / 1000} s (TEST_FILE_TIMEOUT_SECONDS)\n`;
        if (stream) process.stdout.write(note);
        else chunks.push(Buffer.from(note));
      }
      let counts = { passed: 0, failed: 0, skipped: 0, files: {} };
      try {
        counts = JSON.parse(readFileSync(countFile, 'utf8'));
      } catch {
        // The reporter never finished (the run was killed): the failure below stands for it.
      }
      // A non-zero exit (or a stopped job) that no test accounts for is still a failure.
      if ((code !== 0 || timedOut) && counts.failed === 0) counts.failed = 1;
      done({ ...counts, code, output: Buffer.concat(chunks).toString() });
    });
  });
}

const summary = (c) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const total = { passed: 0, failed: 0, skipped: 0 };
const add = (c) => {
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
};

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}

/** Seconds per e2e file: this checkout's last runs over the committed figures (only the order matters). */
function readDurations() {
  return { ...readJson(seedDurationsFile), ...readJson(durationsFile) };
}

async function unitTier() {
  const started = Date.now();
  console.log(`== unit tier: ${unitSpecs.length} files`);
  const result = await runNodeTest(unitSpecs, cores, true);
  add(result);
  console.log(`== unit tier: ${summary(result)} in ${seconds(Date.now() - started)}`);
}

// When the checkout is deleted under a live run, every later file would fail on missing modules, so the
// pool stops starting files once node_modules is gone; the first worker to notice says so (and counts a
// failure, since files went unrun), and nothing is written back into the deleted tree.
const modulesDir = join(root, 'node_modules');
let checkoutGone = false;
function noteCheckoutGone() {
  if (!checkoutGone && !existsSync(modulesDir)) {
    checkoutGone = true;
    total.failed += 1;
    console.log(`== ${modulesDir} is gone (checkout deleted?): no further files are started`);
  }
  return checkoutGone;
}

/** E2E files in a pool, the slowest known first, so the long suites do not start last. */
async function e2eTier() {
  const started = Date.now();
  const known = readDurations();
  const cached = readJson(durationsFile);
  // Unknown files first (they may be long), then by the time they took last.
  const queue = [...e2eSpecs].sort((a, b) => (known[b] ?? Infinity) - (known[a] ?? Infinity) || a.localeCompare(b));
  const workers = Math.min(poolSize, queue.length);
  const stream = workers === 1;
  console.log(`== e2e tier: ${queue.length} files, ${workers} at a time`);
  const durations = {};
  const failedFiles = [];
  const worker = async () => {
    while (queue.length > 0 && !noteCheckoutGone()) {
      const file = queue.shift();
      const fileStarted = Date.now();
      if (!stream) console.log(`▷ ${file}`);
      const result = await runNodeTest([file], 1, stream);
      const ms = Date.now() - fileStarted;
      durations[file] = Math.round(ms / 1000);
      add(result);
      if (result.failed > 0) failedFiles.push(file);
      if (!stream) process.stdout.write(`\n── ${file}\n${result.output}`);
      console.log(`── ${file}: ${summary(result)} in ${seconds(ms)}\n`);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  try {
    if (!checkoutGone) {
      mkdirSync(join(root, 'tmp'), { recursive: true });
      writeFileSync(durationsFile, `${JSON.stringify({ ...cached, ...durations }, null, 2)}\n`);
    }
  } catch {
    // Only the order of the next run depends on it.
  }
  const slowest = Object.entries(durations)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([f, s]) => `${f} ${s} s`);
  console.log(`== e2e tier in ${seconds(Date.now() - started)}; slowest: ${slowest.join(', ')}`);
  if (failedFiles.length > 0) console.log(`== files with failures: ${failedFiles.sort().join(', ')}`);
}

try {
  if (unitSpecs.length > 0) await unitTier();
  if (e2eSpecs.length > 0) await e2eTier();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(summary(total));
process.exit(total.failed > 0 ? 1 : 0);
