import { loadConfig, serverConfigSchema } from '@keyhaven/config';
import { runMain } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import { allServices } from './services';

/** All-in-one: every service on one port, embedded adapters unless DATABASE_URL/REDIS_URL/AMQP_URL/S3_* say otherwise. */
runMain('server', async () => {
  await bootApp({ name: 'server', config: loadConfig(serverConfigSchema), services: allServices });
});
