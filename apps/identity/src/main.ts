import { loadConfig, serviceConfigSchema } from '@keyhaven/config';
import { runMain } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import { IdentityServiceModule, IDENTITY_PREFIX } from '@keyhaven/service-identity';

runMain('identity', async () => {
  const config = loadConfig(serviceConfigSchema('identity'));
  await bootApp({ name: 'identity', config, services: [{ prefix: IDENTITY_PREFIX, module: IdentityServiceModule }] });
});
