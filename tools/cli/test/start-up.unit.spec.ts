import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { REPORT_KINDS } from '@keyhaven/domain-events';
import { REPORT_KIND_NAMES } from '../src/commands/audit-report';

const root = resolve(__dirname, '../../..');

/** Packages only the server-side actions need; `--help` and the vault-client commands must start without them. */
const SERVER_PACKAGES = /\/node_modules\/(@nestjs|typeorm|pg|@electric-sql|ioredis|amqplib|undici|zod)\//;

/** The files `keyhaven <args>` has loaded when it exits, run from the TypeScript sources as the unit tier runs them. */
function loadedBy(args: string[]): string[] {
  const script = [
    "process.on('exit', () => process.stderr.write('\\n' + JSON.stringify(Object.keys(require.cache))));",
    "require('./tools/cli/src/main.ts');",
  ].join('\n');
  // With `-e`, process.argv is [node, ...rest]: 'keyhaven' stands in for the script, as commander expects.
  const run = spawnSync(
    process.execPath,
    ['--require', 'reflect-metadata', '--require', '@swc-node/register', '-e', script, 'keyhaven', ...args],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] },
  );
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stderr.slice(run.stderr.lastIndexOf('\n') + 1)) as string[];
}

describe('keyhaven start-up', () => {
  test('the audit-report help lists the domain report kinds', () => {
    assert.deepEqual(REPORT_KIND_NAMES, REPORT_KINDS);
  });

  for (const args of [['--help'], ['import', '--help'], ['dedupe', '--help'], ['backup', '--help']]) {
    test(`${args.join(' ')} loads no server library`, () => {
      const loaded = loadedBy(args);
      assert.ok(loaded.some((file) => file.endsWith('/tools/cli/src/main.ts')));
      assert.deepEqual(
        loaded.filter((file) => SERVER_PACKAGES.test(file) || file.includes('/libs/')),
        [],
      );
    });
  }
});
