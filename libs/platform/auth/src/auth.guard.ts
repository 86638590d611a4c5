import { type CanActivate, type ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { unauthorized } from '@keyhaven/contracts';
import { IS_PUBLIC } from './public.decorator';
import { IS_ORGANIZATION_API } from './organization-api';
import { TOKEN_VERIFIER, type RequestWithPrincipal, type TokenVerifier } from './principal';

function bearerToken(request: RequestWithPrincipal): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1] ?? null;
  }
  return null;
}

/**
 * Installed globally: a route without @Public() needs a valid access token.
 * With no verifier registered (a service that issues no tokens) every such route answers 401.
 */
@Injectable()
export class GlobalAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Optional() @Inject(TOKEN_VERIFIER) private readonly verifier?: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic === true) return true;
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const token = bearerToken(request);
    if (!token || !this.verifier) throw unauthorized();
    const principal = await this.verifier.verify(token);
    if (!principal) throw unauthorized();
    const organizationApi = this.reflector.getAllAndOverride<boolean | undefined>(IS_ORGANIZATION_API, [
      context.getHandler(),
      context.getClass(),
    ]);
    // Organization keys reach only the public API, and people only the rest.
    if ((organizationApi === true) !== (principal.kind === 'organization')) throw unauthorized();
    request.principal = principal;
    return true;
  }
}
