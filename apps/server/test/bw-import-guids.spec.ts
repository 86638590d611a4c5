import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BwCli, createScratchDatabase, skipUnlessService, startServer, type ServerProcess } from '@keyhaven/testing';
import { PASSWORD, createOrg, newPerson, type Org, type Person } from './org-fixtures';

/*
 * Bitwarden export files carry .NET GUIDs, which need not be RFC 9562 ids: version nibble 0 or f,
 * variant bits c–f. `bw import` sends the file's folder and collection ids as they are, so a server
 * that accepts only RFC UUIDs refuses the whole import (and the CLI just prints "Error").
 */
const FOLDER_ID = 'ABCDEF01-2345-0789-C123-456789ABCDEF'; // version 0, variant "reserved for Microsoft"
const COLLECTION_ID = 'f0e1d2c3-b4a5-f697-e8d9-cafebabe0001'; // version f

interface BwItem {
  name: string;
  folderId: string | null;
  collectionIds?: string[];
  login?: { password: string | null };
}

for (const backend of ['pglite', 'postgres'] as const) {
  describe(`bw import of files with non-RFC GUIDs (${backend})`, () => {
    let server: ServerProcess | undefined;
    let dropDatabase: (() => Promise<void>) | undefined;
    let owner: Person;
    let org: Org;
    let cli: BwCli;
    const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-guid-import-'));

    before(async () => {
      let env: Record<string, string> = {};
      if (backend === 'postgres') {
        // Locally a missing PostgreSQL leaves `server` unset and the tests skip; under CI this is false.
        if ((await skipUnlessService('postgres')) !== false) return;
        const database = await createScratchDatabase();
        dropDatabase = () => database.drop();
        env = { DATABASE_URL: database.url };
      }
      server = await startServer({ env });
      owner = await newPerson(server.http, `guid-owner-${Date.now()}@example.com`);
      org = await createOrg(server.http, owner, 'Guid Co');
      cli = new BwCli(server.caPath);
      await cli.ok(['config', 'server', server.url]);
      cli.session = (await cli.ok(['login', owner.email, PASSWORD, '--raw'])).trim();
    });

    after(async () => {
      cli.cleanup();
      rmSync(scratch, { recursive: true, force: true });
      if (server) {
        await server.stop();
        server.cleanup();
      }
      await dropDatabase?.();
    });

    test('personal: the folder keeps its items', async (t) => {
      if (!server) {
        t.skip('PostgreSQL is not running');
        return;
      }
      const file = join(scratch, 'personal.json');
      writeFileSync(
        file,
        JSON.stringify({
          encrypted: false,
          folders: [{ id: FOLDER_ID, name: 'Odd GUID folder' }],
          items: [
            {
              type: 1,
              name: 'Odd GUID login',
              folderId: FOLDER_ID,
              favorite: false,
              reprompt: 0,
              login: { username: 'u', password: 'odd-guid-pw', uris: [] },
            },
          ],
        }),
      );
      await cli.ok(['import', 'bitwardenjson', file]);
      await cli.ok(['sync', '--force']);
      const folders = await cli.json<{ id: string; name: string }[]>(['list', 'folders']);
      const folder = folders.find((f) => f.name === 'Odd GUID folder');
      assert.ok(folder, 'the folder was imported');
      const items = await cli.json<BwItem[]>(['list', 'items', '--folderid', folder.id]);
      assert.deepEqual(
        items.map((i) => [i.name, i.login?.password]),
        [['Odd GUID login', 'odd-guid-pw']],
      );
    });

    test('--organizationid: the collection keeps its items', async (t) => {
      if (!server) {
        t.skip('PostgreSQL is not running');
        return;
      }
      const file = join(scratch, 'org.json');
      writeFileSync(
        file,
        JSON.stringify({
          encrypted: false,
          collections: [{ id: COLLECTION_ID, organizationId: org.id, name: 'Odd GUID collection', externalId: null }],
          items: [
            {
              type: 1,
              name: 'Odd GUID org login',
              favorite: false,
              reprompt: 0,
              collectionIds: [COLLECTION_ID],
              login: { username: 'svc', password: 'odd-guid-org-pw', uris: [] },
            },
          ],
        }),
      );
      await cli.ok(['import', 'bitwardenjson', file, '--organizationid', org.id]);
      await cli.ok(['sync', '--force']);
      const collections = await cli.json<{ id: string; name: string }[]>([
        'list',
        'org-collections',
        '--organizationid',
        org.id,
      ]);
      const collection = collections.find((c) => c.name === 'Odd GUID collection');
      assert.ok(collection, 'the collection was imported');
      const items = await cli.json<BwItem[]>(['list', 'items', '--collectionid', collection.id]);
      assert.deepEqual(
        items.map((i) => [i.name, i.login?.password]),
        [['Odd GUID org login', 'odd-guid-org-pw']],
      );
    });
  });
}
