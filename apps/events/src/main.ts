import { loadConfig, serviceConfigSchema } from '@keyhaven/config';
import { runMain } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import { EventsServiceModule, EVENTS_PREFIX } from '@keyhaven/service-events';

runMain('events', async () => {
  const config = loadConfig(serviceConfigSchema('events'));
  await bootApp({ name: 'events', config, services: [{ prefix: EVENTS_PREFIX, module: EventsServiceModule }] });
});
