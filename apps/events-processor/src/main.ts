import { loadConfig, serviceConfigSchema } from '@keyhaven/config';
import { runMain } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import {
  EventsProcessorModule,
  EVENTS_PREFIX,
  configureEventsProcessor,
  startEventsProcessor,
} from '@keyhaven/service-events';

runMain('events-processor', async () => {
  const config = loadConfig(serviceConfigSchema('events-processor'));
  await bootApp({
    name: 'events-processor',
    config,
    services: [
      {
        prefix: EVENTS_PREFIX,
        module: EventsProcessorModule,
        configure: configureEventsProcessor,
        start: startEventsProcessor,
      },
    ],
  });
});
