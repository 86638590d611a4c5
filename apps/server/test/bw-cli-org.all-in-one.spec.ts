import { after, before } from 'node:test';
import { startServer, type ServerProcess } from '@keyhaven/testing';
import { orgCliSuite } from './bw-cli-org.suite';

let server: ServerProcess;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server.stop();
  server.cleanup();
});

orgCliSuite('the all-in-one server (pglite)', () => server, { clientEvents: true });
