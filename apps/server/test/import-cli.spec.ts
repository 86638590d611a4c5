import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inheritedEnvironment } from '@keyhaven/config';
import {
  BwCli,
  createScratchDatabase,
  lastPassCsv,
  passwordLogin,
  registerAccount,
  repoRoot,
  sampleLogins,
  startServer,
  type SampleLogin,
  type ServerProcess,
} from '@keyhaven/testing';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { keyhaven, type CliRun } from './data-safety-fixtures';
import { PASSWORD, createOrg, createPersonalItem, newPerson, type Person } from './org-fixtures';

/**
 * The client-side operator commands against running servers, checked with the real bw CLI, on both backends:
 * a LastPass CSV with a broken row, `keyhaven import --org` into an organization's collections, `dedupe`, and
 * `migrate-account` between two servers interrupted midway and resumed. Every import format end to end (5,000
 * records each, read back item by item with bw, --dry-run, a second run, copies within the file) is
 * import-formats-*.spec.ts; here a LastPass import only seeds the vault.
 * The 5,000/10,000-row throughput figures are `npm run bench:import`.
 */
const ROWS = 300;

interface BwItem {
  id: string;
  name: string;
  notes: string | null;
  folderId: string | null;
  organizationId: string | null;
  collectionIds?: string[];
  login?: { username: string | null; password: string | null; totp: string | null; uris?: { uri: string }[] | null };
  attachments?: { id: string; fileName: string }[];
}

/** One login as a comparable line: what the file said, or what bw decrypted. */
function expectedLine(s: SampleLogin, folder = s.folder): string {
  return JSON.stringify([s.name, s.username, s.password, s.notes, s.totp, s.url, folder]);
}

function bwLine(item: BwItem, containers: Map<string, string>, container: string | null | undefined): string {
  const l = item.login;
  return JSON.stringify([
    item.name,
    l?.username ?? '',
    l?.password ?? '',
    item.notes ?? '',
    l?.totp ?? '',
    l?.uris?.[0]?.uri ?? '',
    // bw leaves folderId out of an item in no folder.
    container ? (containers.get(container) ?? `?${container}`) : '',
  ]);
}

const sorted = (lines: string[]): string[] => [...lines].sort();

describeOnBackends('keyhaven import, dedupe and migrate-account', (backend) => {
  const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-import-e2e-'));
  const samples = sampleLogins(ROWS);
  let source: BackedServer;
  let target: ServerProcess | undefined;
  let dropTarget: (() => Promise<void>) | undefined;
  let firstTarget: ServerProcess | undefined;
  let person: Person;
  let bw: BwCli;
  const passwordFile = join(scratch, 'password');
  const caBundle = join(scratch, 'ca-bundle.pem');
  const tag = randomBytes(3).toString('hex');

  /** The compiled CLI trusting the test servers' CAs. */
  const cli = (args: string[]): Promise<CliRun> => keyhaven(args, { NODE_EXTRA_CA_CERTS: caBundle });
  const importArgs = (file: string, ...extra: string[]): string[] => [
    'import',
    '--server',
    source.url,
    '--email',
    person.email,
    '--password-file',
    passwordFile,
    '--format',
    'lastpass',
    '--json',
    ...extra,
    file,
  ];
  const listItems = (...extra: string[]): Promise<BwItem[]> => bw.json<BwItem[]>(['list', 'items', ...extra]);
  async function folderNames(): Promise<Map<string, string>> {
    await bw.ok(['sync']);
    return new Map((await bw.json<{ id: string; name: string }[]>(['list', 'folders'])).map((f) => [f.id, f.name]));
  }
  async function personalItems(): Promise<BwItem[]> {
    await bw.ok(['sync']);
    // bw leaves organizationId out of a personal item.
    return (await listItems()).filter((i) => !i.organizationId);
  }

  before(async () => {
    source = await startAllInOne(backend);
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    writeFileSync(caBundle, readFileSync(source.caPath ?? ''));
    person = await newPerson(source.http, `importer-${tag}@example.com`);
    bw = new BwCli(source.caPath);
    await bw.ok(['config', 'server', source.url]);
    bw.session = (await bw.ok(['login', person.email, PASSWORD, '--raw'])).trim();
    const file = join(scratch, 'lastpass.csv');
    writeFileSync(file, lastPassCsv(samples));
    const seeded = await cli(importArgs(file));
    assert.equal(seeded.code, 0, seeded.stderr);
    assert.equal((JSON.parse(seeded.stdout) as { created: number }).created, ROWS);
  });

  after(async () => {
    bw.cleanup();
    await target?.stop();
    target?.cleanup();
    firstTarget?.cleanup();
    await dropTarget?.();
    await source.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('a broken row is reported by its line and the rest imported (exit 1)', async () => {
    const file = join(scratch, 'broken.csv');
    const extra = sampleLogins(ROWS + 6).slice(ROWS + 1);
    writeFileSync(file, lastPassCsv(extra, 0));
    const run = await cli(importArgs(file));
    assert.equal(run.code, 1, run.stderr);
    const summary = JSON.parse(run.stdout) as { created: number; failed: { where: string; reason: string }[] };
    assert.equal(summary.created, 5);
    assert.equal(summary.failed.length, 1);
    assert.match(summary.failed[0]?.where ?? '', /^line \d+$/);
    assert.equal((await personalItems()).length, ROWS + 5);
  });

  test("--org imports into the organization's collections, named after the groups", async () => {
    const org = await createOrg(source.http, person, `Import team ${tag}`);
    const file = join(scratch, 'org.csv');
    const shared = samples.slice(0, 20);
    writeFileSync(file, lastPassCsv(shared));
    const run = await cli(importArgs(file, '--org', org.id));
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { created: number }).created, 20);
    const rerun = await cli(importArgs(file, '--org', org.id));
    assert.equal((JSON.parse(rerun.stdout) as { created: number }).created, 0, 'again: nothing added');

    await bw.ok(['sync']);
    const collections = new Map(
      (await bw.json<{ id: string; name: string }[]>(['list', 'collections', '--organizationid', org.id])).map((c) => [
        c.id,
        c.name,
      ]),
    );
    const items = await listItems('--organizationid', org.id);
    assert.equal(items.length, 20);
    assert.ok(items.every((i) => (i.collectionIds ?? []).length <= 1));
    assert.deepEqual(
      sorted(items.map((i) => bwLine(i, collections, i.collectionIds?.[0] ?? null))),
      sorted(shared.map((s) => expectedLine(s))),
      'each item in the collection of its group, decrypted with the organization key',
    );
    assert.equal((await personalItems()).length, ROWS + 5, 'the personal vault is untouched');
  });

  test('dedupe lists copies, changes nothing without --yes, trashes the extras with it', async () => {
    for (let i = 0; i < 3; i++) await createPersonalItem(source.http, person, `Copied note ${tag}`);
    const base = ['dedupe', '--server', source.url, '--email', person.email, '--password-file', passwordFile, '--json'];
    const look = await cli(base);
    assert.equal(look.code, 0, look.stderr);
    assert.deepEqual(
      (({ groups, duplicates, trashed }) => [groups, duplicates, trashed])(
        JSON.parse(look.stdout) as { groups: number; duplicates: number; trashed: number },
      ),
      [1, 2, 0],
    );
    assert.equal((await personalItems()).length, ROWS + 5 + 3);
    const yes = await cli([...base, '--yes']);
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal((JSON.parse(yes.stdout) as { trashed: number }).trashed, 2);
    const left = await personalItems();
    assert.equal(left.length, ROWS + 5 + 1);
    assert.equal(left.filter((i) => i.name === `Copied note ${tag}`).length, 1);
    assert.equal((await listItems('--trash')).length, 2);
  });

  test('migrate-account to another server, interrupted and resumed: every item once, the attachment intact', async () => {
    const withFile = (await personalItems()).find((i) => i.name === samples[7]?.name);
    assert.ok(withFile);
    const attachment = Buffer.concat([Buffer.from('attachment ✓\n'), randomBytes(70_000)]);
    const attachmentPath = join(scratch, 'runbook.bin');
    writeFileSync(attachmentPath, attachment);
    await bw.ok(['create', 'attachment', '--file', attachmentPath, '--itemid', withFile.id]);
    const original = await personalItems();
    const originalFolders = await folderNames();
    const originalLines = sorted(original.map((i) => bwLine(i, originalFolders, i.folderId)));

    // Its own process: two embedded servers in one process would share the one PGlite database.
    const targetDb = backend === 'postgres' ? await createScratchDatabase() : undefined;
    dropTarget = targetDb ? () => targetDb.drop() : undefined;
    // Plain HTTP on loopback: a second local CA of the same name in one trust list makes OpenSSL pick the wrong one.
    target = await startServer({ tls: false, env: targetDb ? { DATABASE_URL: targetDb.url } : {} });
    const targetPasswordFile = join(scratch, 'target-password');
    const targetPassword = 'a different master password on the target';
    writeFileSync(targetPasswordFile, targetPassword);
    const targetAccount = await registerAccount(target.http, person.email, targetPassword);
    const targetToken = (await passwordLogin(target.http, targetAccount)).accessToken;
    const count = async (): Promise<number> => {
      const res = await target?.http.get<{ data: unknown[] }>('/api/ciphers', { token: targetToken });
      return res?.status === 200 ? res.body.data.length : 0;
    };
    const args = [
      join(repoRoot, 'dist', 'tools', 'cli', 'main.js'),
      'migrate-account',
      '--from',
      source.url,
      '--to',
      target.url,
      '--email',
      person.email,
      '--from-password-file',
      passwordFile,
      '--password-file',
      targetPasswordFile,
      '--batch-size',
      '20',
      '--json',
    ];

    // First run: killed once some batches have landed.
    const child = spawn(process.execPath, args, {
      env: {
        ...inheritedEnvironment(['KEYHAVEN_PASSWORD', 'DATABASE_URL', 'DATA_DIR']),
        NODE_EXTRA_CA_CERTS: caBundle,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((done) => {
      child.once('exit', (code, signal) => {
        done(signal ?? code);
      });
    });
    let atKill = 0;
    const deadline = Date.now() + 240_000;
    while (child.exitCode === null && Date.now() < deadline) {
      atKill = await count();
      if (atKill >= 20) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL', `the first run was interrupted (not finished): ${stderr.slice(-2000)}`);
    assert.ok(atKill >= 20 && atKill < original.length, `interrupted midway (${atKill} of ${original.length})`);

    const resumed = await cli(args.slice(1));
    assert.equal(resumed.code, 0, resumed.stderr);
    const summary = JSON.parse(resumed.stdout) as { created: number; duplicatesInVault: number; failed: unknown[] };
    assert.deepEqual(summary.failed, []);
    assert.equal(summary.created + summary.duplicatesInVault, original.length);
    assert.ok(summary.duplicatesInVault >= atKill, 'what the first run wrote is recognised, not written again');
    const again = await cli(args.slice(1));
    assert.equal((JSON.parse(again.stdout) as { created: number }).created, 0, 'a third run adds nothing');

    // bw talks HTTPS only: the target again, on the same data, with its own local CA.
    const migrated = target;
    await migrated.stop();
    target = await startServer({ dataDir: migrated.dataDir, env: targetDb ? { DATABASE_URL: targetDb.url } : {} });
    firstTarget = migrated;
    const onTarget = new BwCli(target.caPath);
    try {
      await onTarget.ok(['config', 'server', target.url]);
      onTarget.session = (await onTarget.ok(['login', person.email, targetPassword, '--raw'])).trim();
      const items = await onTarget.json<BwItem[]>(['list', 'items']);
      const folders = new Map(
        (await onTarget.json<{ id: string; name: string }[]>(['list', 'folders'])).map((f) => [f.id, f.name]),
      );
      assert.equal(items.length, original.length, 'no duplicates after the resumed run');
      assert.deepEqual(sorted(items.map((i) => bwLine(i, folders, i.folderId))), originalLines);
      const moved = items.find((i) => i.name === withFile.name);
      const file = moved?.attachments?.[0];
      assert.ok(moved && file && moved.attachments?.length === 1, 'the attachment moved once');
      assert.equal(file.fileName, 'runbook.bin');
      const out = join(scratch, 'downloaded.bin');
      await onTarget.ok(['get', 'attachment', file.id, '--itemid', moved.id, '--output', out]);
      assert.ok(readFileSync(out).equals(attachment), 'the attachment downloads byte for byte');
    } finally {
      onTarget.cleanup();
    }
  });
});
