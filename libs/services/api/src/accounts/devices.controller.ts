import { ParseGuidPipe } from '@keyhaven/http';
import { Controller, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { listJson } from '@keyhaven/contracts';
import { DevicesService, deviceJson } from '@keyhaven/domain-auth';
import { CurrentUser, Public, type Principal } from '@keyhaven/platform-auth';

@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.devices.list(principal.userId)).map(deviceJson));
  }

  /** Asked before login: `X-Request-Email` is the base64url email. */
  @Public()
  @Get('knowndevice')
  known(
    @Headers('x-request-email') email?: string,
    @Headers('x-device-identifier') identifier?: string,
  ): Promise<boolean> {
    return this.devices.isKnown(email, identifier);
  }

  @Get('identifier/:identifier')
  async byIdentifier(
    @CurrentUser() principal: Principal,
    @Param('identifier') identifier: string,
  ): Promise<Record<string, unknown>> {
    return deviceJson(await this.devices.byIdentifier(principal.userId, identifier));
  }

  @Post(':id/deactivate')
  @HttpCode(200)
  async remove(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.devices.deactivate(principal.userId, id);
  }
}
