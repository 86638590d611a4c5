import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { unauthorized } from '@keyhaven/contracts';
import { IS_PUBLIC } from './public.decorator';

/**
 * Installed globally: a route without @Public() needs an authenticated caller.
 * Until a token verifier is registered every such route answers 401.
 */
@Injectable()
export class GlobalAuthGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic === true) return true;
    throw unauthorized();
  }
}
