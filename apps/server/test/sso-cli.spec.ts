import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inheritedEnvironment } from '@keyhaven/config';
import { createScratchDatabase, passwordLogin, repoRoot, startServer, type ServerProcess } from '@keyhaven/testing';
import { describeOnBackends } from './backends';
import { call, createOrg, newPerson, ok, type Org, type Person } from './org-fixtures';

/** The CLI under test must not pick up the developer's adapters or token. */
const CLI_EXCLUDED = ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'DATA_DIR', 'DOMAIN', 'KEYHAVEN_ADMIN_TOKEN'];
const DOMAIN = 'https://vault.example.com';
const SECRET = 'client-secret-from-a-file-0123456789';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `keyhaven sso show|configure --org` on the database directly, as an operator of a self-hosted
 * server would (the embedded database belongs to one process, so the server is stopped meanwhile),
 * then the restarted server serves what the CLI saved to the organization's owner.
 */
describeOnBackends('keyhaven sso show|configure', (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyhaven-sso-cli-'));
  const secretFile = join(dataDir, 'client-secret');
  let database: { url: string; drop(): Promise<void> } | null = null;
  let server: ServerProcess | null = null;
  let owner: Person;
  let org: Org;

  const adapters = (): Record<string, string> => (database ? { DATABASE_URL: database.url } : {});
  const keyhaven = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(repoRoot, 'dist', 'tools', 'cli', 'main.js'), ...args],
        {
          env: { ...inheritedEnvironment(CLI_EXCLUDED), ...adapters(), DATA_DIR: dataDir, DOMAIN, LOG_LEVEL: 'warn' },
          timeout: 120_000,
        },
        (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        },
      );
    });
  const json = (run: Run): Record<string, unknown> => {
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };

  before(async () => {
    writeFileSync(secretFile, `${SECRET}\n`);
    if (backend === 'postgres') database = await createScratchDatabase();
    server = await startServer({ dataDir, tls: false, env: adapters() });
    owner = await newPerson(server.http, 'sso-cli-owner@example.com');
    org = await createOrg(server.http, owner, 'CLI Co');
    await server.stop();
    server = null;
  });
  after(async () => {
    await server?.stop();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('show before any configuration, configure (secret from a file, masked in the output), turn off keeping the fields', async () => {
    const empty = json(await keyhaven(['sso', 'show', '--org', org.id, '--json']));
    assert.equal(empty['enabled'], false);
    assert.equal(empty['data'], null);
    assert.equal((empty['urls'] as Record<string, string>)['callbackPath'], `${DOMAIN}/sso/oidc-signin`);

    const configured = json(
      await keyhaven([
        'sso',
        'configure',
        '--org',
        org.id.toUpperCase(),
        '--enable',
        '--identifier',
        'CliCo',
        '--type',
        'oidc',
        '--authority',
        'https://idp.example.com/realms/cli',
        '--client-id',
        'keyhaven',
        '--client-secret-file',
        secretFile,
        '--groups-claim',
        'groups',
        '--admin-claim-values',
        'kh-admins',
        '--json',
      ]),
    );
    assert.equal(configured['enabled'], true);
    assert.equal(configured['identifier'], 'CliCo');
    const data = configured['data'] as Record<string, unknown>;
    assert.equal(data['configType'], 1);
    assert.equal(data['authority'], 'https://idp.example.com/realms/cli');
    assert.equal(data['adminClaimValues'], 'kh-admins');
    assert.equal(data['clientSecret'], '********', 'the secret is not printed');

    const text = await keyhaven(['sso', 'show', '--org', org.id]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /identifier: {2}CliCo/);
    assert.match(text.stdout, new RegExp(`callbackPath: +${DOMAIN}/sso/oidc-signin`));
    assert.doesNotMatch(text.stdout + text.stderr, new RegExp(SECRET));

    const off = json(await keyhaven(['sso', 'configure', '--org', org.id, '--disable', '--json']));
    assert.equal(off['enabled'], false);
    assert.equal((off['data'] as Record<string, unknown>)['clientId'], 'keyhaven', 'the other fields are kept');
  });

  test('refusals: exit 2 for usage and invalid configurations (with the field), 3 for an unknown organization', async () => {
    const badGuid = await keyhaven(['sso', 'show', '--org', 'acme']);
    assert.equal(badGuid.code, 2, badGuid.stderr);
    const unknown = await keyhaven(['sso', 'show', '--org', '00000000-0000-4000-8000-000000000001']);
    assert.equal(unknown.code, 3, unknown.stderr);
    const badType = await keyhaven(['sso', 'configure', '--org', org.id, '--type', 'kerberos']);
    assert.equal(badType.code, 2);
    assert.match(badType.stderr, /oidc, saml/);
    const saml = await keyhaven(['sso', 'configure', '--org', org.id, '--type', 'saml']);
    assert.equal(saml.code, 2, saml.stderr);
    assert.match(saml.stderr, /idpEntityId/);
    const both = await keyhaven(['sso', 'configure', '--org', org.id, '--enable', '--disable']);
    assert.equal(both.code, 2);
  });

  test("the restarted server serves the CLI's configuration to the owner, secret included", async () => {
    server = await startServer({ dataDir, tls: false, env: adapters() });
    // A new instance on a new address: the owner signs in there.
    const { accessToken } = await passwordLogin(server.http, owner.account);
    const sso = ok(
      await call<Record<string, unknown>>(server.http, accessToken, 'GET', `/api/organizations/${org.id}/sso`),
      'get sso',
    );
    assert.equal(sso['enabled'], false);
    assert.equal(sso['identifier'], 'CliCo');
    const data = sso['data'] as Record<string, unknown>;
    assert.equal(data['clientSecret'], SECRET, 'stored (sealed) from the file, without its newline');
    assert.equal(data['groupsClaimType'], 'groups');
    assert.equal(data['configType'], 1, 'the failed SAML change saved nothing');
  });
});
