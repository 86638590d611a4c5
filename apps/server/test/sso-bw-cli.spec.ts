import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCode } from '@keyhaven/vault-crypto';
import { BwCli, enableTotp, type BwResult } from '@keyhaven/testing';
import { PASSWORD, createOrg, createPersonalItem, join, newPerson, type Org, type Person } from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { SSO_TEST_ENV, configureOidc, oneServer, startIdp, type Idp } from './sso-fixtures';
import { FakeXdgOpen, assertCliPortFree, completeCliSso } from './sso-bw-driver';

/**
 * The stock `bw` CLI (npm @bitwarden/cli) logs in with `bw login --sso`, driven headlessly as
 * ENTERPRISE.md §1.7 describes, against an oidc-provider IdP on loopback: a master-password member
 * logs in, unlocks and lists an item; two-step-login members finish with `--method 0 --code`, and on a
 * terminal where the CLI first gets the 2FA challenge, asks for the code and re-sends the same SSO
 * code with it. The CLI listens on localhost:8065, so the runs are one after another.
 */
describeOnBackends('bw login --sso (stock CLI, OIDC IdP on loopback)', (backend) => {
  let server: BackedServer;
  let idp: Idp;
  let owner: Person;
  let org: Org;
  const opener = new FakeXdgOpen();
  const clis: BwCli[] = [];

  before(async () => {
    server = await startAllInOne(backend, SSO_TEST_ENV);
    idp = await startIdp(`${server.url}/sso/oidc-signin`);
    owner = await newPerson(server.http, `cli-sso-owner-${backend}@example.com`);
    org = await createOrg(server.http, owner, 'Acme');
    await configureOidc(server.http, owner.token, org.id, { identifier: 'acme', authority: idp.issuer });
  });
  after(async () => {
    clis.forEach((c) => {
      c.cleanup();
    });
    opener.cleanup();
    await (idp as Idp | undefined)?.close();
    await (server as BackedServer | undefined)?.stop();
  });

  /** A confirmed member with an IdP account `sub` and a personal item. */
  async function member(sub: string): Promise<{ person: Person; item: string }> {
    const person = await newPerson(server.http, `${sub}-${backend}@example.com`);
    await join(server.http, org, owner.token, person, { type: 2 });
    idp.accounts.set(sub, { password: `${sub}-idp`, email: person.email, name: sub, groups: [] });
    const item = `${sub} note`;
    await createPersonalItem(server.http, person, item);
    return { person, item };
  }

  async function newCli(): Promise<BwCli> {
    const cli = new BwCli(server.caPath);
    clis.push(cli);
    await cli.ok(['config', 'server', server.url]);
    await assertCliPortFree();
    return cli;
  }

  /** Runs `login` (started by `start`) while playing the browser as `sub`; answers the CLI's result. */
  async function loginWhileBrowsing(sub: string, start: () => Promise<BwResult>): Promise<BwResult> {
    const running = start();
    const endedEarly = running.then((r) => {
      throw new Error(`the CLI ended before opening a URL (${r.code}): ${r.stdout} ${r.stderr}`);
    });
    endedEarly.catch(() => undefined); // only read if it wins the race below
    const opened = await Promise.race([opener.nextUrl(), endedEarly]);
    assert.match(opened, new RegExp(`^${server.url}/#/sso\\?clientId=cli&redirectUri=http%3A%2F%2Flocalhost%3A8065&`));
    const listener = await completeCliSso(opened, oneServer(server), server.http, {
      login: sub,
      password: `${sub}-idp`,
    });
    assert.equal(listener.status, 200, listener.text);
    assert.match(listener.text, /Success \| Bitwarden CLI/);
    return running;
  }

  async function unlockAndList(cli: BwCli, item: string): Promise<void> {
    cli.session = (await cli.ok(['unlock', PASSWORD, '--raw'])).trim();
    assert.ok(cli.session, 'bw unlock printed a session key');
    const items = await cli.json<{ name: string }[]>(['list', 'items']);
    assert.ok(
      items.some((i) => i.name === item),
      `bw list items: ${items.map((i) => i.name).join(', ')}`,
    );
  }

  const interactive = (opener: FakeXdgOpen) => ({ ...opener.env(), BW_NOINTERACTION: 'false' });

  test('a master-password member: bw login --sso, then bw unlock and bw list items', async () => {
    const { item } = await member('cli-mp');
    const cli = await newCli();
    const login = await loginWhileBrowsing('cli-mp', () =>
      cli.run(['login', '--sso', 'acme'], { env: interactive(opener) }),
    );
    assert.equal(login.code, 0, `${login.stdout}\n${login.stderr}`);
    assert.match(login.stdout, /You are logged in!/);
    const status = await cli.json<{ status: string; userEmail: string }>(['status']);
    assert.equal(status.status, 'locked');
    assert.equal(status.userEmail, `cli-mp-${backend}@example.com`);
    await unlockAndList(cli, item);
  });

  test('a two-step-login member with --method 0 --code', async () => {
    const { person, item } = await member('cli-totp');
    const key = await enableTotp(server.http, person.account, person.token);
    const cli = await newCli();
    // The next time step: enabling used this one's code, and a TOTP code is accepted once.
    const code = totpCode(key, Date.now() + 30_000);
    const login = await loginWhileBrowsing('cli-totp', () =>
      cli.run(['login', '--sso', 'acme', '--method', '0', '--code', code], { env: interactive(opener) }),
    );
    assert.equal(login.code, 0, `${login.stdout}\n${login.stderr}`);
    assert.match(login.stdout, /You are logged in!/);
    await unlockAndList(cli, item);
  });

  test('a two-step-login member on a terminal: the CLI gets the challenge, asks, and re-sends the same SSO code with the TOTP', async () => {
    const { person, item } = await member('cli-prompt');
    const key = await enableTotp(server.http, person.account, person.token);
    const cli = await newCli();
    let asked = false;
    const login = await loginWhileBrowsing('cli-prompt', () =>
      cli.runOnTerminal(
        ['login', '--sso', 'acme', '--method', '0'],
        (output) => {
          if (!output.includes('Two-step login code')) return Promise.resolve(null);
          asked = true;
          return Promise.resolve(totpCode(key, Date.now() + 30_000));
        },
        { env: opener.env() },
      ),
    );
    assert.ok(asked, `the CLI never asked for the code:\n${login.stdout}`);
    assert.equal(login.code, 0, `${login.stdout}\n${login.stderr}`);
    assert.match(login.stdout, /You are logged in!/);
    await unlockAndList(cli, item);
  });

  test('a person new to the organization (JIT): the CLI logs out and says to set a master password first (ENTERPRISE.md trap 4)', async () => {
    idp.accounts.set('cli-jit', {
      password: 'cli-jit-idp',
      email: `cli-jit-${backend}@example.com`,
      name: 'J',
      groups: [],
    });
    const cli = await newCli();
    const login = await loginWhileBrowsing('cli-jit', () =>
      cli.run(['login', '--sso', 'acme'], { env: interactive(opener) }),
    );
    assert.equal(login.code, 1, `${login.stdout}\n${login.stderr}`);
    assert.match(`${login.stdout}${login.stderr}`, /you must first log in through the web vault/);
    assert.equal((await cli.json<{ status: string }>(['status'])).status, 'unauthenticated');
  });
});
