import { randomBytes } from 'node:crypto';

/** The answer to `POST …/negotiate`: WebSockets only, in both transfer formats. */
export interface NegotiateResponse {
  readonly connectionId: string;
  readonly connectionToken?: string;
  readonly negotiateVersion: number;
  readonly availableTransports: readonly { transport: string; transferFormats: readonly string[] }[];
}

/**
 * Clients asking for negotiate version 1 get a separate connection token, older ones only a connection id.
 * The token is not remembered: any instance accepts the WebSocket that follows, so no sticky sessions are
 * needed (the WebSocket authenticates on its own).
 */
export function negotiateResponse(requestedVersion: number): NegotiateResponse {
  const connectionId = randomBytes(16).toString('base64url');
  const transports = [{ transport: 'WebSockets', transferFormats: ['Text', 'Binary'] }];
  if (requestedVersion >= 1) {
    return {
      negotiateVersion: 1,
      connectionId,
      connectionToken: randomBytes(16).toString('base64url'),
      availableTransports: transports,
    };
  }
  return { negotiateVersion: 0, connectionId, availableTransports: transports };
}
