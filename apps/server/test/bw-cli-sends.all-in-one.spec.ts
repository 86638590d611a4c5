import { after, before } from 'node:test';
import { startServer, type ServerProcess } from '@keyhaven/testing';
import { sendsCliSuite } from './bw-cli-sends.suite';

// Its own file (not inside bw-cli.all-in-one) so the test runner can run it beside the long CLI suites.
let server: ServerProcess;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server.stop();
  server.cleanup();
});

sendsCliSuite('the all-in-one server (pglite)', () => server);
