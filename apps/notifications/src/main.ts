import { loadConfig, serviceConfigSchema } from '@keyhaven/config';
import { runMain } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import {
  NotificationsServiceModule,
  NOTIFICATIONS_PREFIX,
  configureNotificationsApp,
} from '@keyhaven/service-notifications';

runMain('notifications', async () => {
  const config = loadConfig(serviceConfigSchema('notifications'));
  await bootApp({
    name: 'notifications',
    config,
    services: [
      { prefix: NOTIFICATIONS_PREFIX, module: NotificationsServiceModule, configure: configureNotificationsApp },
    ],
  });
});
