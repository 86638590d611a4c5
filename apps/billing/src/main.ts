import { loadConfig, serviceConfigSchema } from '@keyhaven/config';
import { runMain } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import { BillingServiceModule, BILLING_PREFIX } from '@keyhaven/service-billing';

runMain('billing', async () => {
  const config = loadConfig(serviceConfigSchema('billing'));
  await bootApp({ name: 'billing', config, services: [{ prefix: BILLING_PREFIX, module: BillingServiceModule }] });
});
