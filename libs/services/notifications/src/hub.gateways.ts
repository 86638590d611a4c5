import type { IncomingMessage } from 'node:http';
import { Inject } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { HubAdmission } from './hub-admission';
import { CloseCode, HubConnection } from './hub-connection';
import { HubConnections } from './hub-connections';
import { ANONYMOUS_HUB_PATH, HUB_PATH, HUB_SETTINGS, type HubSettings } from './hub-settings';

/** Both hubs accept the same way: the identity HubAdmission attached to the upgrade, then SignalR frames. */
abstract class SignalRGateway implements OnGatewayConnection<WebSocket> {
  constructor(
    private readonly connections: HubConnections,
    private readonly settings: HubSettings,
  ) {}

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    const identity = HubAdmission.identityOf(request);
    if (!identity) {
      socket.close(CloseCode.PolicyViolation, 'not admitted');
      return;
    }
    new HubConnection(socket, identity, this.settings, this.connections);
  }
}

/** `/notifications/hub`: a signed-in client's live sync (`ReceiveMessage`). */
@WebSocketGateway({ path: HUB_PATH })
export class NotificationsHubGateway extends SignalRGateway {
  constructor(connections: HubConnections, @Inject(HUB_SETTINGS) settings: HubSettings) {
    super(connections, settings);
  }
}

/** `/notifications/anonymous-hub?Token=<auth request id>`: a device waiting for its login to be approved. */
@WebSocketGateway({ path: ANONYMOUS_HUB_PATH })
export class AnonymousHubGateway extends SignalRGateway {
  constructor(connections: HubConnections, @Inject(HUB_SETTINGS) settings: HubSettings) {
    super(connections, settings);
  }
}
