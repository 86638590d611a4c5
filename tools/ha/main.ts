/**
 * The HA test bed by hand: `npm run ha [-- --replicas 3]`. Starts every split service from dist/ (two instances of
 * each public service and of the events processor by default) behind nginx with deploy/nginx/keyhaven.conf, prints
 * where everything is, and stops it all on Ctrl-C. Needs PostgreSQL, Redis and RabbitMQ on this machine (the same
 * ones and TEST_* variables as the tests) and Debian's nginx.
 */
import { startTestBed } from './testbed';

async function main(): Promise<void> {
  const at = process.argv.indexOf('--replicas');
  const replicas = at >= 0 ? Number(process.argv[at + 1]) : 2;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new Error('--replicas takes 1 to 5');
  const bed = await startTestBed({ replicas, log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(
    [
      '',
      `Keyhaven behind nginx: ${bed.url}`,
      `  export NODE_EXTRA_CA_CERTS=${bed.caPath}; bw config server ${bed.url}`,
      `  database ${bed.databaseUrl.replace(/\/\/[^@]*@/, '//…@')}`,
      `  nginx prefix ${bed.nginx.prefix} (access log: ${bed.nginx.accessLog})`,
      ...bed.instances.map((i) => `  ${i.name.padEnd(20)} ${i.url}  pid ${String(i.process.child.pid)}`),
      '',
      'kill -9 or kill -TERM any pid above to watch nginx route around it; Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write('stopping…\n');
  await bed.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
