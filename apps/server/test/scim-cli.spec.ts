import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inheritedEnvironment } from '@keyhaven/config';
import { createScratchDatabase, repoRoot, startServer, testEnv, type ServerProcess } from '@keyhaven/testing';
import { createOrg, newPerson, type Org } from './org-fixtures';
import { ScimClient, assertScimError } from './scim-fixtures';

/** The CLI under test must not pick up the developer's adapters. */
const CLI_EXCLUDED = ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'DATA_DIR', 'DOMAIN', 'KEYHAVEN_ADMIN_TOKEN'];
/** The public URL the operator configured: the printed base URL is built from it. */
const DOMAIN = 'https://vault.keyhaven.test';

type ScratchDatabase = Awaited<ReturnType<typeof createScratchDatabase>>;

interface Printed {
  organizationId: string;
  baseUrl: string;
  apiKey: string;
}

/**
 * `keyhaven scim enable|rotate-key --org …` on the database (no --server), on both databases: the
 * printed base URL and key, a second `enable` keeping the key, `rotate-key` replacing it, usage and
 * unknown-organization exit codes, and the server accepting exactly the key the CLI printed last.
 * On the embedded database the CLI runs while the server is stopped (PGlite belongs to one process).
 */
for (const backend of testEnv.TEST_BACKENDS) {
  describe(`keyhaven scim on ${backend}`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), `keyhaven-scim-cli-${backend}-`));
    let database: ScratchDatabase | undefined;
    let server: ServerProcess;
    let org: Org;

    const serverEnv = (): Record<string, string> => (database ? { DATABASE_URL: database.url } : {});
    const start = async (): Promise<void> => {
      server = await startServer({ dataDir, tls: false, env: serverEnv() });
    };

    function keyhaven(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      const env = {
        ...inheritedEnvironment(CLI_EXCLUDED),
        DATA_DIR: dataDir,
        DOMAIN,
        LOG_LEVEL: 'warn',
        ...serverEnv(),
      };
      return new Promise((resolve) => {
        execFile(
          process.execPath,
          [join(repoRoot, 'dist', 'tools', 'cli', 'main.js'), ...args],
          { env, timeout: 120_000 },
          (error, stdout, stderr) => {
            resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
          },
        );
      });
    }

    /** Runs the CLI (each argument list in turn) with the embedded database released, then brings the server back. */
    async function offline(...runs: string[][]): Promise<{ code: number; stdout: string; stderr: string }[]> {
      if (backend === 'pglite') await server.stop();
      try {
        const results = [];
        for (const args of runs) results.push(await keyhaven(args));
        return results;
      } finally {
        if (backend === 'pglite') await start();
      }
    }
    const cli = async (args: string[]) => (await offline(args))[0] ?? { code: -1, stdout: '', stderr: 'not run' };

    before(async () => {
      if (backend === 'postgres') database = await createScratchDatabase();
      await start();
      const owner = await newPerson(server.http, `scim-cli-${backend}@example.com`);
      org = await createOrg(server.http, owner, 'CLI provisioned');
    });

    after(async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    });

    test('enable prints the base URL and a key, keeps it on a second run; rotate-key replaces it', async () => {
      const enabled = await cli(['scim', 'enable', '--org', org.id.toUpperCase(), '--json']);
      assert.equal(enabled.code, 0, enabled.stderr);
      const first = JSON.parse(enabled.stdout) as Printed;
      assert.equal(first.organizationId, org.id);
      assert.equal(first.baseUrl, `${DOMAIN}/scim/v2/${org.id}`);
      assert.match(first.apiKey, /^[A-Za-z0-9]{30}$/);
      const scim = new ScimClient(server.http, org.id, first.apiKey);
      assert.equal((await scim.get('/Users')).status, 200, 'the printed key opens /scim/v2');

      const again = await cli(['scim', 'enable', '--org', org.id]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`SCIM base URL: ${DOMAIN}/scim/v2/${org.id}\\n`));
      assert.match(again.stdout, new RegExp(`SCIM API key: +${first.apiKey}\\n`), 'enable keeps the key');

      const rotated = await cli(['scim', 'rotate-key', '--org', org.id, '--json']);
      assert.equal(rotated.code, 0, rotated.stderr);
      const second = JSON.parse(rotated.stdout) as Printed;
      assert.match(second.apiKey, /^[A-Za-z0-9]{30}$/);
      assert.notEqual(second.apiKey, first.apiKey);
      const renewed = new ScimClient(server.http, org.id, second.apiKey);
      assert.equal((await renewed.get('/Users')).status, 200, 'the new key works');
      assertScimError(await renewed.withKey(first.apiKey).get('/Users'), 401, undefined, 'the old key is refused');
    });

    test('an unknown organization is exit code 3; a missing or bad --org, or --server, a usage error (2)', async () => {
      // The usage errors are refused before the database is opened: no need to stop the server for them.
      const nobody = '00000000-0000-4000-8000-000000000000';
      const unknown = await offline(['scim', 'rotate-key', '--org', nobody], ['scim', 'enable', '--org', nobody]);
      assert.equal(unknown.length, 2);
      for (const res of unknown) {
        assert.equal(res.code, 3, res.stderr);
        assert.match(res.stderr, /no such organization/);
      }
      assert.equal((await keyhaven(['scim', 'enable', '--org', 'not-a-guid'])).code, 2);
      assert.equal((await keyhaven(['scim', 'enable'])).code, 2, '--org is required');
      const remote = await keyhaven(['scim', 'enable', '--org', org.id, '--server', 'https://example.test']);
      assert.equal(remote.code, 2, remote.stderr);
    });
  });
}
