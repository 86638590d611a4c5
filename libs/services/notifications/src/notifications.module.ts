import { Module } from '@nestjs/common';
import { KEYHAVEN_CONFIG } from '@keyhaven/config';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { HubAdmission } from './hub-admission';
import { HubConnections } from './hub-connections';
import { AnonymousHubGateway, NotificationsHubGateway } from './hub.gateways';
import { HUB_SETTINGS, hubSettings } from './hub-settings';
import { AnonymousHubNegotiateController, HubNegotiateController } from './negotiate.controller';
import { PushFanout } from './push-fanout';

/**
 * The notifications service: the SignalR hubs on `/notifications/hub` and `/notifications/anonymous-hub`,
 * fed by every push on the bus. Mounted under `/notifications` in the all-in-one and as its own app; either
 * way the apps pass `configureNotificationsApp` so the WebSocket adapter shares the HTTP(S) server and port.
 */
@Module({
  imports: [AuthDomainModule],
  controllers: [HubNegotiateController, AnonymousHubNegotiateController],
  providers: [
    { provide: HUB_SETTINGS, useFactory: hubSettings, inject: [KEYHAVEN_CONFIG] },
    HubAdmission,
    HubConnections,
    PushFanout,
    NotificationsHubGateway,
    AnonymousHubGateway,
  ],
  exports: [HubConnections],
})
export class NotificationsServiceModule {}
