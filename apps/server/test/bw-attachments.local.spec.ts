import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startServer, type ServerProcess } from '@keyhaven/testing';
import { CLI_ATTACHMENT_ENV, attachmentCliSuite } from './bw-attachments.suite';

let server: ServerProcess;

before(async () => {
  server = await startServer({ env: CLI_ATTACHMENT_ENV });
});

after(async () => {
  await server.stop();
  server.cleanup();
});

attachmentCliSuite('the all-in-one server, files on local disk', () => {
  const root = join(server.dataDir, 'blobs', 'attachments');
  return {
    url: server.url,
    caPath: server.caPath,
    http: server.http,
    blobExists: (cipherId, attachmentId) => Promise.resolve(existsSync(join(root, cipherId, attachmentId))),
    blobKeys: () =>
      Promise.resolve(
        existsSync(root)
          ? readdirSync(root).flatMap((cipher) => readdirSync(join(root, cipher)).map((file) => `${cipher}/${file}`))
          : [],
      ),
  };
});
