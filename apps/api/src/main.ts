import { loadConfig, serviceConfigSchema } from '@keyhaven/config';
import { runMain } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import { ApiServiceModule, API_PREFIX } from '@keyhaven/service-api';
import { BillingApiModule } from '@keyhaven/service-billing';

runMain('api', async () => {
  const config = loadConfig(serviceConfigSchema('api'));
  await bootApp({
    name: 'api',
    config,
    services: [
      { prefix: API_PREFIX, module: ApiServiceModule },
      // The organization billing routes the web vault calls are under /api (404 with BILLING=off).
      { prefix: API_PREFIX, module: BillingApiModule },
    ],
  });
});
