import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inheritedEnvironment } from '@keyhaven/config';
import { BwCli, repoRoot, type HttpClient } from '@keyhaven/testing';
import {
  PASSWORD,
  createOrg,
  createOrgItem,
  createPersonalItem,
  join as joinOrg,
  newPerson,
  MemberType,
} from './org-fixtures';

/** The CLI under test must not pick up the developer's adapters. */
const CLI_EXCLUDED = ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'DATA_DIR', 'S3_BUCKET', 'KEYHAVEN_ADMIN_TOKEN'];

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The compiled `keyhaven` with exactly these server variables. */
export function keyhaven(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'dist', 'tools', 'cli', 'main.js'), ...args],
      { env: { ...inheritedEnvironment(CLI_EXCLUDED), LOG_LEVEL: 'warn', ...env }, timeout: 300_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

export interface Seeded {
  readonly ownerEmail: string;
  readonly memberEmail: string;
  readonly attachment: Buffer;
}

/**
 * A small team's instance: an owner and a member of an organization with a shared item, personal items, a
 * folder, and (through the real bw CLI) a login with TOTP and an attachment.
 */
export async function seedInstance(
  http: HttpClient,
  url: string,
  caPath: string | undefined,
  scratch: string,
): Promise<Seeded> {
  const tag = randomBytes(3).toString('hex');
  const owner = await newPerson(http, `owner-${tag}@example.com`);
  const member = await newPerson(http, `member-${tag}@example.com`);
  const org = await createOrg(http, owner, 'Data safety team');
  await joinOrg(http, org, owner.token, member, {
    type: MemberType.User,
    collections: [{ id: org.defaultCollection }],
  });
  await createOrgItem(http, org, owner.token, 'Shared router', [org.defaultCollection]);
  await createPersonalItem(http, owner, 'Owner note');
  await createPersonalItem(http, member, 'Member note');

  const bw = new BwCli(caPath);
  try {
    await bw.ok(['config', 'server', url]);
    bw.session = (await bw.ok(['login', owner.email, PASSWORD, '--raw'])).trim();
    const folder = await bw.json<{ id: string }>(['create', 'folder', encode({ name: 'Infrastructure ✓' })]);
    const item = await bw.json<{ id: string }>([
      'create',
      'item',
      encode({
        type: 1,
        name: 'Database "prod"',
        folderId: folder.id,
        notes: 'line one\nline two — ünïcödé',
        login: {
          username: 'dba',
          password: 'p@ss,word;1',
          totp: 'JBSWY3DPEHPK3PXP',
          uris: [{ uri: 'https://db.example.com' }],
        },
      }),
    ]);
    // Over one 64 KiB age chunk, so a damaged file fails part-way through the load.
    const attachment = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(100_000)]);
    const file = join(scratch, 'runbook.bin');
    writeFileSync(file, attachment);
    await bw.ok(['create', 'attachment', '--file', file, '--itemid', item.id]);
    return { ownerEmail: owner.email, memberEmail: member.email, attachment };
  } finally {
    bw.cleanup();
  }
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

interface BwItem {
  id: string;
  name: string;
  notes: string | null;
  folderId: string | null;
  organizationId: string | null;
  login?: { username: string | null; password: string | null; totp: string | null };
  attachments?: { id: string; fileName: string }[];
}

/** What the real bw CLI decrypts for a user: every item (sorted), folder names, and the attachment's bytes. */
export async function vaultAsSeenByBw(
  url: string,
  caPath: string | undefined,
  email: string,
  scratch: string,
): Promise<{ items: unknown[]; folders: string[]; attachment: Buffer | null }> {
  const bw = new BwCli(caPath);
  try {
    await bw.ok(['config', 'server', url]);
    bw.session = (await bw.ok(['login', email, PASSWORD, '--raw'])).trim();
    const items = await bw.json<BwItem[]>(['list', 'items']);
    const folders = (await bw.json<{ name: string }[]>(['list', 'folders'])).map((f) => f.name).sort();
    let attachment: Buffer | null = null;
    const withFile = items.find((i) => (i.attachments ?? []).length > 0);
    if (withFile?.attachments?.[0]) {
      const out = join(scratch, `download-${randomBytes(3).toString('hex')}.bin`);
      await bw.ok(['get', 'attachment', withFile.attachments[0].id, '--itemid', withFile.id, '--output', out]);
      attachment = readFileSync(out);
    }
    return {
      items: items
        .map((i) => ({
          id: i.id,
          name: i.name,
          notes: i.notes,
          folderId: i.folderId,
          organizationId: i.organizationId,
          login: i.login ? { username: i.login.username, password: i.login.password, totp: i.login.totp } : null,
          attachments: (i.attachments ?? []).map((a) => a.fileName),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      folders,
      attachment,
    };
  } finally {
    bw.cleanup();
  }
}

export function assertSameVault(
  before: Awaited<ReturnType<typeof vaultAsSeenByBw>>,
  after: Awaited<ReturnType<typeof vaultAsSeenByBw>>,
): void {
  assert.ok(before.items.length >= 3, 'the seeded vault has items');
  assert.deepEqual(after.items, before.items);
  assert.deepEqual(after.folders, before.folders);
  assert.ok(before.attachment && after.attachment?.equals(before.attachment), 'the attachment downloads identically');
}
