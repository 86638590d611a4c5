import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import JSZip from 'jszip';
import { BwCli, passwordLogin, registerAccount, type HttpClient } from '@keyhaven/testing';
import { createOrganizationKeys, encryptType2, type Account } from '@keyhaven/vault-crypto';

/** The server under test, and a look at its blob store (local directory or S3 bucket). */
export interface AttachmentCliTarget {
  readonly url: string;
  readonly caPath: string | undefined;
  readonly http: HttpClient;
  /** Whether the file of this attachment is stored. */
  blobExists(cipherId: string, attachmentId: string): Promise<boolean>;
  /** Every attachment file the store holds, as `cipherId/attachmentId`. */
  blobKeys(): Promise<string[]>;
}

/** The server runs with these limits, so the refusals need only small files. */
export const CLI_ATTACHMENT_ENV = {
  ATTACHMENTS_MAX_FILE_BYTES: String(2 * 1024 * 1024),
  ATTACHMENTS_USER_MAX_STORAGE_GB: '0.002',
};

const PASSWORD = 'correct horse battery staple';
const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

interface BwAttachment {
  id: string;
  fileName: string;
  size: string;
  url: string;
}
interface BwItem {
  id: string;
  name: string;
  organizationId: string | null;
  attachments?: BwAttachment[];
}

/** `bw create attachment`, `get attachment`, `delete attachment`, `move` and exports with the real CLI. */
export function attachmentCliSuite(name: string, target: () => AttachmentCliTarget): void {
  describe(`attachments with the official bw CLI against ${name}`, () => {
    let server: AttachmentCliTarget;
    let account: Account;
    let token = '';
    let bw: BwCli;
    let itemId = '';
    let attachmentId = '';
    const email = `files-${Date.now()}-${randomBytes(3).toString('hex')}@example.com`;
    const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-cli-files-'));
    // Binary content with every byte value, over several read chunks.
    const content = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300_000)]);
    const source = join(scratch, 'report 2026.bin');

    const item = async (id: string) => bw.json<BwItem>(['get', 'item', id]);
    const storedRows = async (id: string) => {
      const res = await server.http.get<{ attachments: unknown[] | null }>(`/api/ciphers/${id}`, { token });
      assert.equal(res.status, 200, res.text);
      return res.body.attachments ?? [];
    };

    before(async () => {
      server = target();
      account = await registerAccount(server.http, email, PASSWORD);
      token = (await passwordLogin(server.http, account)).accessToken;
      bw = new BwCli(server.caPath);
      writeFileSync(source, content);
      await bw.ok(['config', 'server', server.url]);
      bw.session = (await bw.ok(['login', email, PASSWORD, '--raw'])).trim();
      const made = await bw.json<BwItem>([
        'create',
        'item',
        encode({ type: 2, name: 'Quarterly report', notes: null, secureNote: { type: 0 } }),
      ]);
      itemId = made.id;
    });

    after(() => {
      bw.cleanup();
      rmSync(scratch, { recursive: true, force: true });
    });

    test('bw create attachment uploads the file; bw get attachment --output gives back the same bytes', async () => {
      const updated = await bw.json<BwItem>(['create', 'attachment', '--file', source, '--itemid', itemId]);
      const [attachment] = updated.attachments ?? [];
      assert.ok(attachment, 'the item lists the attachment');
      assert.equal(attachment.fileName, 'report 2026.bin');
      attachmentId = attachment.id;
      assert.ok(await server.blobExists(itemId, attachmentId), 'the file is stored');
      const out = join(scratch, 'out.bin');
      await bw.ok(['get', 'attachment', attachmentId, '--itemid', itemId, '--output', out]);
      assert.deepEqual(readFileSync(out), content);
      // An edit right after, with the revision date the create answered: not "out of date".
      await bw.ok(['sync', '--force']);
      const current = await item(itemId);
      await bw.ok(['edit', 'item', itemId, encode({ ...current, notes: 'edited after upload' })]);
    });

    test('bw export --format zip carries the file', async () => {
      const file = join(scratch, 'export.zip');
      await bw.ok(['export', '--format', 'zip', '--output', file]);
      const zip = await JSZip.loadAsync(readFileSync(file));
      const entry = Object.values(zip.files).find((f) => f.name.startsWith('attachments/') && !f.dir);
      assert.ok(entry, `the zip has an attachment: ${Object.keys(zip.files).join(', ')}`);
      assert.deepEqual(await entry.async('nodebuffer'), content);
    });

    test('over the size limit or over the storage quota: refused, nothing stored, no file left', async () => {
      const keysBefore = (await server.blobKeys()).sort();
      const big = join(scratch, 'big.bin');
      writeFileSync(big, randomBytes(3 * 1024 * 1024));
      const tooBig = await bw.run(['create', 'attachment', '--file', big, '--itemid', itemId]);
      assert.notEqual(tooBig.code, 0);
      assert.match(tooBig.stdout + tooBig.stderr, /Max file size/);

      // The quota (0.002 GiB, about 2.1 MB) has room for the first file (300 KB) but not for 1.9 MB more.
      const second = join(scratch, 'second.bin');
      writeFileSync(second, randomBytes(1_900_000));
      const overQuota = await bw.run(['create', 'attachment', '--file', second, '--itemid', itemId]);
      assert.notEqual(overQuota.code, 0);
      assert.match(overQuota.stdout + overQuota.stderr, /Not enough storage/);

      assert.equal((await storedRows(itemId)).length, 1, 'only the first attachment');
      assert.deepEqual((await server.blobKeys()).sort(), keysBefore, 'no file was left behind');
    });

    test('bw move into an organization keeps the file readable; the org export still works', async () => {
      const keys = await createOrganizationKeys(account.publicKey);
      const org = await server.http.post<{ id: string }>('/api/organizations', {
        token,
        json: {
          name: 'Files Inc',
          billingEmail: email,
          planType: 0,
          key: keys.key,
          keys: { publicKey: keys.publicKey, encryptedPrivateKey: keys.encryptedPrivateKey },
          collectionName: encryptType2(keys.orgKey, 'Default collection'),
        },
      });
      assert.equal(org.status, 200, org.text);
      await bw.ok(['sync', '--force']);
      const collections = await bw.json<{ id: string }[]>(['list', 'org-collections', '--organizationid', org.body.id]);
      await bw.ok(['move', itemId, org.body.id, encode(collections.map((c) => c.id))]);
      await bw.ok(['sync', '--force']);
      const moved = await item(itemId);
      assert.equal(moved.organizationId, org.body.id);
      assert.deepEqual(
        moved.attachments?.map((a) => a.id),
        [attachmentId],
      );
      const out = join(scratch, 'moved.bin');
      await bw.ok(['get', 'attachment', attachmentId, '--itemid', itemId, '--output', out]);
      assert.deepEqual(readFileSync(out), content, 'decrypts with the key re-wrapped under the org key');

      const exported = join(scratch, 'org.json');
      await bw.ok(['export', '--organizationid', org.body.id, '--format', 'json', '--output', exported]);
      const data = JSON.parse(readFileSync(exported, 'utf8')) as { items: { id: string; name: string }[] };
      assert.deepEqual(
        data.items.map((i) => i.name),
        ['Quarterly report'],
      );
    });

    test('bw delete attachment removes it and its file', async () => {
      await bw.ok(['delete', 'attachment', attachmentId, '--itemid', itemId]);
      await bw.ok(['sync', '--force']);
      assert.deepEqual((await item(itemId)).attachments ?? [], []);
      for (let i = 0; i < 50 && (await server.blobExists(itemId, attachmentId)); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await server.blobExists(itemId, attachmentId), false, 'the file is gone');
    });
  });
}
