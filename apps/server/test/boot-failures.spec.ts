import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, requireServices, runToExit } from '@keyhaven/testing';

/** One line naming the variable, a non-zero exit, and no stack trace. */
function assertOneLineError(result: { code: number | null; output: string }, variable: string): void {
  assert.notEqual(result.code, 0);
  const lines = result.output
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('(node:') && !l.startsWith('(Use `node'));
  assert.equal(lines.length, 1, `expected one line, got:\n${result.output}`);
  assert.match(lines[0] ?? '', new RegExp(`\\b${variable}\\b`));
  assert.doesNotMatch(result.output, /\n\s+at /, 'no stack trace');
}

describe('a bad configuration stops the process with one line', () => {
  test('an invalid PORT', async () => {
    assertOneLineError(await runToExit({ env: { PORT: 'eighty' } }), 'PORT');
  });

  test('a DATABASE_URL that is not a postgres URL', async () => {
    assertOneLineError(await runToExit({ env: { DATABASE_URL: 'mysql://localhost/db' } }), 'DATABASE_URL');
  });

  test('an unreachable DATABASE_URL', async () => {
    const port = await freePort();
    assertOneLineError(
      await runToExit({ env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/keyhaven` } }),
      'DATABASE_URL',
    );
  });

  test('a wrong database name on the real PostgreSQL', async (t) => {
    if (!(await requireServices(t, 'postgres'))) return;
    const result = await runToExit({ env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/keyhaven_no_such_db' } });
    assertOneLineError(result, 'DATABASE_URL');
    assert.match(result.output, /does not exist/);
  });

  test('an unreachable REDIS_URL', async () => {
    const port = await freePort();
    assertOneLineError(await runToExit({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } }), 'REDIS_URL');
  });

  test('an unreachable AMQP_URL', async () => {
    const port = await freePort();
    assertOneLineError(await runToExit({ env: { AMQP_URL: `amqp://guest:guest@127.0.0.1:${port}` } }), 'AMQP_URL');
  });

  test('a split service without its required DATABASE_URL', async () => {
    assertOneLineError(await runToExit({ app: 'api' }), 'DATABASE_URL');
  });

  test('a secret read from an unreadable *_FILE', async () => {
    assertOneLineError(await runToExit({ env: { ADMIN_TOKEN_FILE: '/nonexistent/admin-token' } }), 'ADMIN_TOKEN_FILE');
  });
});
