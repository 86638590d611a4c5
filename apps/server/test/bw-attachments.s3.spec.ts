import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import S3rver from 's3rver';
import { S3BlobStore } from '@keyhaven/storage';
import { startServer, type ServerProcess } from '@keyhaven/testing';
import { CLI_ATTACHMENT_ENV, attachmentCliSuite } from './bw-attachments.suite';
import { sendsCliSuite } from './bw-cli-sends.suite';

const BUCKET = 'keyhaven-attachments';
let s3: S3rver;
let s3Dir = '';
let endpoint = '';
let store: S3BlobStore;
let server: ServerProcess;

/** A real S3-compatible server (s3rver, in this process) and the all-in-one keeping its files there. */
before(async () => {
  s3Dir = await mkdtemp(join(tmpdir(), 'keyhaven-s3-'));
  s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: s3Dir,
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await s3.run();
  endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  store = new S3BlobStore({ endpoint, bucket: BUCKET, forcePathStyle: true, ...credentials });
  server = await startServer({
    env: {
      ...CLI_ATTACHMENT_ENV,
      S3_ENDPOINT: endpoint,
      S3_BUCKET: BUCKET,
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
  });
});

after(async () => {
  await server.stop();
  server.cleanup();
  await store.close();
  await s3.close();
  await rm(s3Dir, { recursive: true, force: true });
});

/** Object keys as s3rver lays them out on disk: `<bucket>/<key>._S3rver_object`. */
async function objectKeys(): Promise<string[]> {
  const root = join(s3Dir, BUCKET, 'attachments');
  const ciphers = await readdir(root).catch(() => [] as string[]);
  const keys = await Promise.all(
    ciphers.map(async (cipher) =>
      (await readdir(join(root, cipher)))
        .filter((f) => f.endsWith('._S3rver_object'))
        .map((f) => `${cipher}/${f.slice(0, -'._S3rver_object'.length)}`),
    ),
  );
  return keys.flat();
}

attachmentCliSuite('the all-in-one server, files on S3 (s3rver)', () => ({
  url: server.url,
  caPath: server.caPath,
  http: server.http,
  blobExists: async (cipherId, attachmentId) => (await store.stat(`attachments/${cipherId}/${attachmentId}`)) !== null,
  blobKeys: objectKeys,
}));

// File Sends keep their files in the same store: the CLI's send and receive, with the bytes on S3.
sendsCliSuite('the all-in-one server, Send files on S3 (s3rver)', () => server);
