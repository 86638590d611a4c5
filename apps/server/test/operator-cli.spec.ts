import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inheritedEnvironment } from '@keyhaven/config';
import { passwordLogin, registerAccount, repoRoot, startServer, type ServerProcess } from '@keyhaven/testing';
import type { Account } from '@keyhaven/vault-crypto';

/** The CLI under test must not pick up the developer's adapters or token. */
const CLI_EXCLUDED = ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'DATA_DIR', 'KEYHAVEN_ADMIN_TOKEN'];

function keyhaven(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'dist', 'tools', 'cli', 'main.js'), ...args],
      { env: { ...inheritedEnvironment(CLI_EXCLUDED), DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * The operator CLI working on the database directly (no --server), as on a small team's all-in-one:
 * the embedded database belongs to one process at a time, so the server is stopped, the CLI lists and
 * offboards, and the restarted server no longer lets the offboarded user in.
 */
describe('keyhaven on the embedded database, without a server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyhaven-cli-direct-'));
  let server: ServerProcess;
  const password = 'operator cli direct password';
  let leaverEmail = '';
  let stayer: Account;
  let leaver: Account;

  before(async () => {
    server = await startServer({ dataDir, tls: false });
    stayer = await registerAccount(server.http, 'stayer@example.com', password);
    leaver = await registerAccount(server.http, 'leaver@example.com', password);
    leaverEmail = leaver.email;
    await passwordLogin(server.http, stayer);
    await passwordLogin(server.http, leaver);
    await server.stop();
  });

  after(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('users list, offboard and the restarted server refusing the offboarded user', async () => {
    const listed = await keyhaven(['users', 'list', '--json'], dataDir);
    assert.equal(listed.code, 0, listed.stderr);
    const emails = (JSON.parse(listed.stdout) as { email: string }[]).map((u) => u.email).sort();
    assert.deepEqual(emails, ['leaver@example.com', 'stayer@example.com']);

    const offboarded = await keyhaven(['offboard', leaverEmail, '--json'], dataDir);
    assert.equal(offboarded.code, 0, offboarded.stderr);
    assert.equal((JSON.parse(offboarded.stdout) as { email: string }).email, leaverEmail);
    const unknown = await keyhaven(['offboard', 'nobody@example.com'], dataDir);
    assert.equal(unknown.code, 3, 'an unknown account is exit code 3');

    server = await startServer({ dataDir, tls: false });
    await passwordLogin(server.http, stayer);
    await assert.rejects(passwordLogin(server.http, leaver), /login: 400/);
  });
});
