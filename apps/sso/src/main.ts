import { loadConfig, serviceConfigSchema } from '@keyhaven/config';
import { runMain } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import { SsoServiceModule, SSO_PREFIX } from '@keyhaven/service-sso';

runMain('sso', async () => {
  const config = loadConfig(serviceConfigSchema('sso'));
  await bootApp({ name: 'sso', config, services: [{ prefix: SSO_PREFIX, module: SsoServiceModule }] });
});
