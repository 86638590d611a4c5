import { ParseGuidPipe } from '@keyhaven/http';
import { Controller, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { notFound, listJson } from '@keyhaven/contracts';
import { DeviceRepository, normalizeEmail, type Device } from '@keyhaven/domain-auth';
import { CurrentUser, Public, type Principal } from '@keyhaven/platform-auth';

function deviceJson(device: Device): Record<string, unknown> {
  return {
    id: device.id,
    name: device.name,
    type: device.type,
    identifier: device.identifier,
    creationDate: device.creationDate.toISOString(),
    revisionDate: device.revisionDate.toISOString(),
    isTrusted: false,
    object: 'device',
  };
}

@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DeviceRepository) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    const data = (await this.devices.listForUser(principal.userId)).map(deviceJson);
    return listJson(data);
  }

  /** Asked before login: `X-Request-Email` is the base64url email. */
  @Public()
  @Get('knowndevice')
  async known(
    @Headers('x-request-email') email?: string,
    @Headers('x-device-identifier') identifier?: string,
  ): Promise<boolean> {
    if (!email || !identifier) return false;
    const decoded = Buffer.from(email, 'base64url').toString('utf8');
    return this.devices.knownByEmail(normalizeEmail(decoded), identifier);
  }

  @Get('identifier/:identifier')
  async byIdentifier(
    @CurrentUser() principal: Principal,
    @Param('identifier') identifier: string,
  ): Promise<Record<string, unknown>> {
    const device = await this.devices.findForUser(principal.userId, identifier);
    if (!device) throw notFound('Device');
    return deviceJson(device);
  }

  @Post(':id/deactivate')
  @HttpCode(200)
  async remove(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    if (!(await this.devices.deleteForUser(principal.userId, id))) throw notFound('Device');
  }
}
