import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Who is calling: set by the global guard from a verified access token. */
export interface Principal {
  /** `user` for people; `organization` for an organization's API key (public API only). */
  readonly kind: 'user' | 'organization';
  /** The user's id; for an organization token, the organization's id. */
  readonly userId: string;
  readonly deviceId: string | null;
  /**
   * The `deviceIdentifier` the client sent at login (its app id): what pushes carry as `ContextId`,
   * so that the acting client skips its own change. Absent for tokens issued without a device.
   */
  readonly deviceIdentifier?: string | null;
  /**
   * The device type the client sent at login (Bitwarden's `devicetype` claim): the audit log records it,
   * ahead of the request's Device-Type header, like Bitwarden's CurrentContext. Absent without a device.
   */
  readonly deviceType?: number | null;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly email: string;
}

/** Verifies an access token (signature, expiry, current security stamp). Returns null when invalid. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal | null>;
}

export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');

export interface RequestWithPrincipal {
  principal?: Principal;
  headers: Record<string, string | string[] | undefined>;
  query?: unknown;
}

/** `@CurrentUser() user: Principal` in a guarded handler. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
  if (!request.principal) throw new Error('CurrentUser used on a public route');
  return request.principal;
});
