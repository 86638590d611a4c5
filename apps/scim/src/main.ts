import { loadConfig, serviceConfigSchema } from '@keyhaven/config';
import { runMain } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import { ScimServiceModule, SCIM_PREFIX } from '@keyhaven/service-scim';

runMain('scim', async () => {
  const config = loadConfig(serviceConfigSchema('scim'));
  await bootApp({ name: 'scim', config, services: [{ prefix: SCIM_PREFIX, module: ScimServiceModule }] });
});
