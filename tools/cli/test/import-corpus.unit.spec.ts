import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_FORMATS, formatFixture, itemLine, type CorpusItem, type FixtureFormat } from '@keyhaven/testing';
import { SymmetricKey, decryptCipher, encryptCipher, type EncryptedCipher } from '@keyhaven/vault-crypto';
import type { ImportFormat, ImportedItem } from '../src/import/model';
import { parseExport } from '../src/import/parse';
import { fingerprint } from '../src/vault/fingerprint';
import { planUpload } from '../src/vault/upload';

/** The parsed item in the corpus' shape: what the CLI will encrypt and bw will show. */
export function parsedItem({ cipher, folder }: ImportedItem): CorpusItem {
  const text = (v: string | null | undefined): string | null => (v === undefined || v === '' ? null : v);
  const strings = (o: object): Record<string, string> =>
    Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
  return {
    type: cipher.type as CorpusItem['type'],
    name: cipher.name,
    notes: text(cipher.notes),
    favorite: cipher.favorite === true,
    folder,
    fields: (cipher.fields ?? []).map((f) => ({
      name: f.name ?? '',
      value: text(f.value),
      type: f.type,
      ...(f.type === 3 ? { linkedId: f.linkedId ?? undefined } : {}),
    })),
    ...(cipher.type === 1 && {
      login: {
        username: text(cipher.login.username),
        password: text(cipher.login.password),
        totp: text(cipher.login.totp),
        uris: (cipher.login.uris ?? []).map((u) => u.uri),
      },
    }),
    ...(cipher.type === 3 && { card: strings(cipher.card) }),
    ...(cipher.type === 4 && { identity: strings(cipher.identity) }),
  };
}

export const cliFormat = (format: FixtureFormat): ImportFormat =>
  format === 'bitwarden-protected' ? 'bitwarden' : format;

describe('every import format, from a realistic corpus file', () => {
  for (const format of FIXTURE_FORMATS) {
    test(`${format}: every item as the file said, copies in the file counted once`, async () => {
      const fixture = formatFixture(format, 400, 12);
      const result = await parseExport(cliFormat(format), fixture.file, {
        userKey: null,
        filePassword: () =>
          fixture.filePassword ? Promise.resolve(fixture.filePassword) : Promise.reject(new Error('no password')),
      });
      assert.deepEqual(result.failures, []);
      assert.equal(result.items.length, fixture.records);
      const plan = planUpload(
        result.items.map((item, n) => ({ ...item, where: `item ${n + 1}` })),
        { byFingerprint: new Map(), containers: new Map(), undecryptable: 0 },
      );
      assert.equal(plan.duplicatesInFile, fixture.copies);
      const read = new Set(plan.toCreate.map((i) => itemLine(parsedItem(i))));
      const expected = new Set(fixture.expected.map(itemLine));
      // The first few differences, not two lists of hundreds of lines.
      assert.deepEqual(
        {
          missing: [...expected].filter((l) => !read.has(l)).slice(0, 3),
          unexpected: [...read].filter((l) => !expected.has(l)).slice(0, 3),
        },
        { missing: [], unexpected: [] },
      );
      assert.equal(read.size, fixture.expected.length);

      // The second run compares the file with the vault: each item, encrypted and decrypted again as the
      // vault returns it, must be recognised.
      const key = SymmetricKey.generate();
      const stored = plan.toCreate.map((i) =>
        fingerprint(decryptCipher(key, encryptCipher(key, i.cipher, {}) as unknown as EncryptedCipher)),
      );
      const entry = { id: 'stored', name: null, key, attachmentNames: [], revisionDate: null };
      const index = {
        byFingerprint: new Map(stored.map((fp) => [fp, [entry]])),
        containers: new Map(),
        undecryptable: 0,
      };
      const again = planUpload(
        result.items.map((item, n) => ({ ...item, where: `item ${n + 1}` })),
        index,
      );
      assert.deepEqual([again.toCreate.length, again.duplicatesInVault], [0, fixture.records]);
    });
  }
});
