import type { MountedService } from '@keyhaven/runtime';
import { API_PREFIX, ApiServiceModule } from '@keyhaven/service-api';
import { IDENTITY_PREFIX, IdentityServiceModule } from '@keyhaven/service-identity';
import { ADMIN_PREFIX, AdminServiceModule } from '@keyhaven/service-admin';
import {
  NOTIFICATIONS_PREFIX,
  NotificationsServiceModule,
  configureNotificationsApp,
} from '@keyhaven/service-notifications';
import {
  EVENTS_PREFIX,
  EventsProcessorModule,
  EventsServiceModule,
  configureEventsProcessor,
  startEventsProcessor,
} from '@keyhaven/service-events';
import { SSO_PREFIX, SsoServiceModule } from '@keyhaven/service-sso';
import { SCIM_PREFIX, ScimServiceModule } from '@keyhaven/service-scim';
import { BILLING_PREFIX, BillingApiModule, BillingServiceModule } from '@keyhaven/service-billing';
import { ICONS_PREFIX, IconsServiceModule } from '@keyhaven/service-icons';

/** Every service, each under the prefix the clients derive from the server URL. */
export const allServices: MountedService[] = [
  { prefix: API_PREFIX, module: ApiServiceModule },
  // The organization billing routes the web vault calls live under /api (404 with BILLING=off).
  { prefix: API_PREFIX, module: BillingApiModule },
  { prefix: IDENTITY_PREFIX, module: IdentityServiceModule },
  { prefix: ADMIN_PREFIX, module: AdminServiceModule },
  { prefix: NOTIFICATIONS_PREFIX, module: NotificationsServiceModule, configure: configureNotificationsApp },
  { prefix: EVENTS_PREFIX, module: EventsServiceModule },
  {
    prefix: EVENTS_PREFIX,
    module: EventsProcessorModule,
    configure: configureEventsProcessor,
    start: startEventsProcessor,
  },
  { prefix: SSO_PREFIX, module: SsoServiceModule },
  { prefix: SCIM_PREFIX, module: ScimServiceModule },
  { prefix: BILLING_PREFIX, module: BillingServiceModule },
  { prefix: ICONS_PREFIX, module: IconsServiceModule },
];
