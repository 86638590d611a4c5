import { loadConfig, serviceConfigSchema } from '@keyhaven/config';
import { runMain } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import { AdminServiceModule, ADMIN_PREFIX } from '@keyhaven/service-admin';

runMain('admin', async () => {
  const config = loadConfig(serviceConfigSchema('admin'));
  await bootApp({ name: 'admin', config, services: [{ prefix: ADMIN_PREFIX, module: AdminServiceModule }] });
});
