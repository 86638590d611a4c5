import { loadConfig, serviceConfigSchema } from '@keyhaven/config';
import { runMain } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import { IconsServiceModule, ICONS_PREFIX } from '@keyhaven/service-icons';

runMain('icons', async () => {
  const config = loadConfig(serviceConfigSchema('icons'));
  await bootApp({ name: 'icons', config, services: [{ prefix: ICONS_PREFIX, module: IconsServiceModule }] });
});
