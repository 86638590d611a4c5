import { type CanActivate, type ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { LoginService } from '@keyhaven/domain-auth';

/** Counts the request against its client address's credential-attempt limit (429 past it). */
@Injectable()
export class IpThrottleGuard implements CanActivate {
  constructor(private readonly login: LoginService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    await this.login.throttleIp(context.switchToHttp().getRequest<FastifyRequest>().ip);
    return true;
  }
}

/** Routes that take or probe credentials: prelogin and registration. */
export const ThrottledByIp = (): MethodDecorator & ClassDecorator => UseGuards(IpThrottleGuard);
