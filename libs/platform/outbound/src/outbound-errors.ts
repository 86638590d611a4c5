/** Why an outbound request did not produce a response. Messages name hosts, never bodies or headers. */
export type OutboundFailure = 'blocked' | 'timeout' | 'too-large' | 'redirects' | 'invalid-url' | 'network';

export class OutboundError extends Error {
  constructor(
    readonly failure: OutboundFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutboundError';
  }
}

/** The destination (or a redirect's) resolved to an address the policy refuses; nothing was connected. */
export class OutboundBlockedError extends OutboundError {
  constructor(host: string, reason: string) {
    super('blocked', `outbound connection to ${host} refused: ${reason}`);
    this.name = 'OutboundBlockedError';
  }
}
