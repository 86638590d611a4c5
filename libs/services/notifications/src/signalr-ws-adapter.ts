import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { WebSocketServer } from 'ws';
import { HubAdmission } from './hub-admission';
import { HUB_SETTINGS, type HubSettings } from './hub-settings';

type VerifyCallback = (result: boolean, code?: number, message?: string) => void;

/**
 * Nest's `ws` adapter on the application's own HTTP(S) server (same port, same TLS), with what a public
 * SignalR endpoint needs: upgrades decided by HubAdmission before any WebSocket exists, a frame size cap,
 * no compression, and no per-message JSON dispatch (the gateways read SignalR frames themselves).
 */
export class SignalRWsAdapter extends WsAdapter {
  private readonly log = new Logger('notifications');

  constructor(private readonly app: NestFastifyApplication) {
    super(app.getHttpServer());
  }

  override create(port: number, options: Record<string, unknown> & { path?: string } = {}): WebSocketServer {
    const admission = this.app.get(HubAdmission);
    const settings = this.app.get<HubSettings>(HUB_SETTINGS);
    const path = options.path ?? '/';
    return super.create(port, {
      ...options,
      // The largest handshake or message a client may send, plus framing slack; ws closes with 1009 beyond it.
      maxPayload: settings.maxMessageBytes + 16,
      perMessageDeflate: false,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyCallback) => {
        admission.admit(path, info.req).then(
          (result) => {
            if (result.ok) done(true);
            else done(false, result.status);
          },
          (error: unknown) => {
            this.log.warn(`upgrade refused: ${error instanceof Error ? error.message : String(error)}`);
            done(false, 503);
          },
        );
      },
    }) as WebSocketServer;
  }

  /** The gateways parse SignalR frames on their own; Nest's JSON `{event, data}` dispatch stays off. */
  override bindMessageHandlers(
    _client: unknown,
    _handlers: MessageMappingProperties[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    return undefined;
  }

  /** Client errors (oversized frames, resets) are routine on a public socket: they close it, nothing is logged. */
  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('error', (error: Error) => {
      this.log.warn(`WebSocket server error: ${error.message}`);
    });
    return server;
  }
}

/** Installs the adapter; the apps that mount the notifications service pass this as its `configure`. */
export function configureNotificationsApp(app: NestFastifyApplication): void {
  app.useWebSocketAdapter(new SignalRWsAdapter(app));
}
