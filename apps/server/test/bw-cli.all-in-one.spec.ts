import { after, before } from 'node:test';
import { startServer, type ServerProcess } from '@keyhaven/testing';
import { cliSuite } from './bw-cli.suite';

let server: ServerProcess;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server.stop();
  server.cleanup();
});

cliSuite('the all-in-one server (pglite)', () => server);
