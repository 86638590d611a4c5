import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BwCli,
  formatFixture,
  itemLine,
  type CorpusField,
  type CorpusItem,
  type FixtureFormat,
} from '@keyhaven/testing';
import { startAllInOne, type BackedServer } from './backends';
import { keyhaven, type CliRun } from './data-safety-fixtures';
import { PASSWORD, newPerson, type Person } from './org-fixtures';

/** Records per file, and how many of them repeat an earlier one (internal duplicates). */
export const RECORDS = 5_000;
export const COPIES = 50;

/** An item as `bw list items` prints it (members it leaves out are optional). */
interface BwItem {
  type: 1 | 2 | 3 | 4;
  name: string;
  notes: string | null;
  favorite: boolean;
  folderId?: string | null;
  fields?: { name: string | null; value: string | null; type: CorpusField['type']; linkedId: number | null }[];
  login?: { username: string | null; password: string | null; totp: string | null; uris?: { uri: string }[] | null };
  card?: Record<string, string | null>;
  identity?: Record<string, string | null>;
}

const present = (o: Record<string, string | null> | undefined): Record<string, string> | undefined =>
  o &&
  Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));

/** What bw decrypted, in the corpus' shape. */
function fromBw(item: BwItem, folders: Map<string, string>): CorpusItem {
  return {
    type: item.type,
    name: item.name,
    notes: item.notes ?? null,
    favorite: item.favorite,
    folder: item.folderId ? (folders.get(item.folderId) ?? `?${item.folderId}`) : null,
    fields: (item.fields ?? []).map((f) => ({
      name: f.name ?? '',
      value: f.value ?? null,
      type: f.type,
      ...(f.type === 3 && f.linkedId !== null ? { linkedId: f.linkedId } : {}),
    })),
    ...(item.login && {
      login: {
        username: item.login.username ?? null,
        password: item.login.password ?? null,
        totp: item.login.totp ?? null,
        uris: (item.login.uris ?? []).map((u) => u.uri),
      },
    }),
    ...(item.type === 3 && { card: present(item.card) }),
    ...(item.type === 4 && { identity: present(item.identity) }),
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * For each format: a realistic RECORDS-record file made by the corpus generators, `keyhaven import`ed into
 * a fresh account of one all-in-one server, then checked with the real bw CLI item by item (name, login,
 * URIs, notes, TOTP, custom fields, card, identity, folder, favourite). Around it: a --dry-run first (the
 * database fingerprint unchanged), and a second run of the file (nothing created, the API count unchanged).
 * PGlite only: the import is client-side (parse, encrypt, the clients' bulk import route), and the routes it
 * uses run on both backends in import-cli.spec; the durations of each step go to the test's diagnostics.
 */
export function describeFormatImports(title: string, formats: readonly FixtureFormat[]): void {
  describe(title, () => {
    const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-import-formats-'));
    const passwordFile = join(scratch, 'password');
    const filePasswordFile = join(scratch, 'file-password');
    const caBundle = join(scratch, 'ca-bundle.pem');
    let server: BackedServer;

    const cli = (args: string[]): Promise<CliRun> => keyhaven(args, { NODE_EXTRA_CA_CERTS: caBundle });
    const parse = <T>(run: CliRun, code = 0): T => {
      assert.equal(run.code, code, `exit ${run.code}: ${run.stderr.slice(-2000)}`);
      return JSON.parse(run.stdout) as T;
    };

    before(async () => {
      server = await startAllInOne('pglite');
      writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
      writeFileSync(caBundle, readFileSync(server.caPath ?? ''));
    });

    after(async () => {
      await server.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    for (const format of formats) {
      test(`${format}: ${RECORDS} records, each item once and decrypted by bw as the file said`, async (t) => {
        const timings: string[] = [];
        const timed = async <T>(label: string, step: () => Promise<T>): Promise<T> => {
          const started = performance.now();
          try {
            return await step();
          } finally {
            timings.push(`${label} ${seconds(performance.now() - started)}`);
          }
        };
        t.after(() => {
          t.diagnostic(`${format}: ${timings.join(', ')}`);
        });
        const fixture = await timed('generate', () => Promise.resolve(formatFixture(format, RECORDS, COPIES)));
        const unique = fixture.expected.length;
        const file = join(scratch, `${format}.export`);
        writeFileSync(file, fixture.file);
        if (fixture.filePassword) writeFileSync(filePasswordFile, fixture.filePassword, { mode: 0o600 });
        const person: Person = await newPerson(server.http, `formats-${format}@example.com`);
        const args = (...extra: string[]): string[] => [
          'import',
          '--server',
          server.url,
          '--email',
          person.email,
          '--password-file',
          passwordFile,
          '--format',
          format === 'bitwarden-protected' ? 'bitwarden' : format,
          ...(fixture.filePassword ? ['--file-password-file', filePasswordFile] : []),
          '--json',
          ...extra,
          file,
        ];
        const count = async (): Promise<number> => {
          const res = await server.http.get<{ data: unknown[] }>('/api/ciphers', { token: person.token });
          assert.equal(res.status, 200);
          return res.body.data.length;
        };

        const before = await server.db.fingerprint();
        const plan = parse<{ toCreate: number; duplicatesInFile: number; failed: unknown[] }>(
          await timed('dry run', () => cli(args('--dry-run'))),
        );
        assert.deepEqual([plan.toCreate, plan.duplicatesInFile, plan.failed], [unique, COPIES, []]);
        assert.equal(await server.db.fingerprint(), before, '--dry-run wrote nothing');

        const first = parse<{ created: number; duplicatesInFile: number; failed: unknown[] }>(
          await timed('import', () => cli(args())),
        );
        assert.deepEqual([first.created, first.duplicatesInFile, first.failed], [unique, COPIES, []]);

        const bw = new BwCli(server.caPath);
        try {
          const bwJson = async <T>(bwArgs: string[]): Promise<T> => {
            const run = await bw.run([...bwArgs, '--raw'], { timeoutMs: 240_000 });
            assert.equal(run.code, 0, `bw ${bwArgs.join(' ')}: ${run.stderr.slice(-2000)}`);
            return JSON.parse(run.stdout) as T;
          };
          await bw.ok(['config', 'server', server.url]);
          // bw login runs a full sync of the new session itself (a separate `bw sync` would fetch it all again).
          const login = await timed('bw login and sync', () =>
            bw.run(['login', person.email, PASSWORD, '--raw'], { timeoutMs: 240_000 }),
          );
          assert.equal(login.code, 0, `bw login: ${login.stderr.slice(-2000)}`);
          bw.session = login.stdout.trim();
          const items = await timed('bw list items', () => bwJson<BwItem[]>(['list', 'items']));
          const folders = new Map(
            (await bwJson<{ id: string; name: string }[]>(['list', 'folders'])).map((f) => [f.id, f.name]),
          );
          const shown = new Set(items.map((i) => itemLine(fromBw(i, folders))));
          const expected = new Set(fixture.expected.map(itemLine));
          assert.equal(items.length, unique, 'each item once');
          // The first few differences, not two lists of thousands of lines.
          assert.deepEqual(
            {
              missing: [...expected].filter((l) => !shown.has(l)).slice(0, 3),
              unexpected: [...shown].filter((l) => !expected.has(l)).slice(0, 3),
            },
            { missing: [], unexpected: [] },
          );
        } finally {
          bw.cleanup();
        }

        const again = parse<{ created: number; skippedDuplicates: number; failed: unknown[] }>(
          await timed('second import', () => cli(args())),
        );
        assert.deepEqual([again.created, again.skippedDuplicates, again.failed], [0, RECORDS, []]);
        assert.equal(await count(), unique, 'the second run added nothing');
        timings.unshift(`${(fixture.file.length / 1024 / 1024).toFixed(1)} MiB`);
      });
    }
  });
}
