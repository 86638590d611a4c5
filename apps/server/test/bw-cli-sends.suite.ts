import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BwCli, registerAccount } from '@keyhaven/testing';
import type { CliTarget } from './bw-cli.suite';

const PASSWORD = 'correct horse battery staple';

interface BwSend {
  id: string;
  accessId: string;
  accessUrl: string;
  name: string;
  type: number;
  accessCount: number;
  maxAccessCount: number | null;
  passwordSet: boolean;
  deletionDate: string;
  expirationDate: string | null;
  text?: { text: string; hidden: boolean };
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

/**
 * Sends through the official `bw` CLI: `bw send` text and file, `bw send receive` (a second CLI
 * profile, logged out, as a recipient) with and without a password, access count and expiry
 * enforced, `send edit`, `send remove-password`, `send delete`.
 */
export function sendsCliSuite(name: string, target: () => CliTarget): void {
  describe(`bw send against ${name}`, () => {
    let server: CliTarget;
    let owner: BwCli;
    let recipient: BwCli;
    const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-cli-sends-'));
    const email = `sender-${Date.now()}@example.com`;

    const create = async (args: string[]): Promise<BwSend> => owner.json<BwSend>(['send', ...args, '--fullObject']);
    const receive = (url: string, extra: string[] = []) => recipient.run(['send', 'receive', url, ...extra]);

    before(async () => {
      server = target();
      await registerAccount(server.http, email, PASSWORD);
      owner = new BwCli(server.caPath);
      recipient = new BwCli(server.caPath);
      await owner.ok(['config', 'server', server.url]);
      await recipient.ok(['config', 'server', server.url]);
      owner.session = (await owner.ok(['login', email, PASSWORD, '--raw'])).trim();
    });

    after(() => {
      owner.cleanup();
      recipient.cleanup();
      rmSync(scratch, { recursive: true, force: true });
    });

    test('bw send text, then bw send receive by someone logged out', async () => {
      const sent = await create(['-n', 'greeting', 'hello from keyhaven']);
      assert.ok(sent.accessUrl.startsWith(`${server.url}/#/send/${sent.accessId}/`), sent.accessUrl);
      const received = await receive(sent.accessUrl);
      assert.equal(received.code, 0, received.stderr + received.stdout);
      assert.equal(received.stdout, 'hello from keyhaven');
      await owner.ok(['sync', '--force']);
      const listed = await owner.json<BwSend[]>(['send', 'list']);
      assert.equal(listed.find((s) => s.id === sent.id)?.accessCount, 1);
    });

    test('a password-protected Send opens with the password only', async () => {
      const sent = await create(['--password', 'open sesame', 'behind a password']);
      assert.equal(sent.passwordSet, true);
      const without = await receive(sent.accessUrl);
      assert.notEqual(without.code, 0);
      assert.doesNotMatch(without.stdout, /behind a password/);
      const wrong = await receive(sent.accessUrl, ['--password', 'wrong']);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stdout + wrong.stderr, /invalid password/i);
      const right = await receive(sent.accessUrl, ['--password', 'open sesame']);
      assert.equal(right.code, 0, right.stderr + right.stdout);
      assert.equal(right.stdout, 'behind a password');
    });

    test('a file Send: received bytes identical, with and without a password', async () => {
      const content = randomBytes(256 * 1024);
      const source = join(scratch, 'report.bin');
      writeFileSync(source, content);
      const plain = await create(['-f', source]);
      const out = join(scratch, 'received.bin');
      const received = await receive(plain.accessUrl, ['--output', out]);
      assert.equal(received.code, 0, received.stderr + received.stdout);
      assert.ok(readFileSync(out).equals(content), 'the received file is the sent file');

      const locked = await create(['-f', source, '--password', 'file pw']);
      const out2 = join(scratch, 'received2.bin');
      assert.notEqual((await receive(locked.accessUrl, ['--output', out2])).code, 0);
      const opened = await receive(locked.accessUrl, ['--output', out2, '--password', 'file pw']);
      assert.equal(opened.code, 0, opened.stderr + opened.stdout);
      assert.ok(readFileSync(out2).equals(content));
    });

    test('max access count: the second receive is refused', async () => {
      const sent = await create(['-a', '1', 'only once']);
      assert.equal((await receive(sent.accessUrl)).stdout, 'only once');
      const again = await receive(sent.accessUrl);
      assert.notEqual(again.code, 0);
      assert.match(again.stdout + again.stderr, /not found/i);
    });

    test('send edit: a new name, then an expiration in the past makes it unreachable', async () => {
      const sent = await create(['-n', 'before edit', 'editable']);
      const current = await owner.json<BwSend>(['send', 'get', sent.id]);
      const renamed = await owner.json<BwSend>(['send', 'edit', encode({ ...current, name: 'after edit' })]);
      assert.equal(renamed.name, 'after edit');
      await owner.ok(['sync', '--force']);
      assert.equal((await owner.json<BwSend>(['send', 'get', sent.id])).name, 'after edit');
      assert.equal((await receive(sent.accessUrl)).stdout, 'editable');

      const expired = new Date(Date.now() - 60_000).toISOString();
      await owner.json<BwSend>(['send', 'edit', encode({ ...renamed, expirationDate: expired })]);
      const refused = await receive(sent.accessUrl);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stdout + refused.stderr, /not found/i);
    });

    test('send remove-password and send delete', async () => {
      const sent = await create(['--password', 'pw', 'soon open']);
      await owner.ok(['send', 'remove-password', sent.id]);
      assert.equal((await receive(sent.accessUrl)).stdout, 'soon open');
      await owner.ok(['send', 'delete', sent.id]);
      await owner.ok(['sync', '--force']);
      assert.ok(!(await owner.json<BwSend[]>(['send', 'list'])).some((s) => s.id === sent.id));
      const gone = await receive(sent.accessUrl);
      assert.notEqual(gone.code, 0);
    });
  });
}
