import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put } from '@nestjs/common';
import { listJson, parseBody } from '@keyhaven/contracts';
import {
  DeviceTrustService,
  DevicesService,
  deviceJson,
  deviceKeysSchema,
  protectedDeviceJson,
  untrustSchema,
  updateTrustSchema,
} from '@keyhaven/domain-auth';
import { CurrentUser, Public, type Principal } from '@keyhaven/platform-auth';

@Controller('devices')
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly trust: DeviceTrustService,
  ) {}

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

  /** Trusted device encryption: this device keeps the user key wrapped to its own key pair. POST is an alias. */
  @Put(':identifier/keys')
  async setKeys(
    @CurrentUser() principal: Principal,
    @Param('identifier') identifier: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return deviceJson(await this.trust.setKeys(principal.userId, identifier, parseBody(deviceKeysSchema, body)));
  }

  @Post(':identifier/keys')
  @HttpCode(200)
  async setKeysPost(
    @CurrentUser() principal: Principal,
    @Param('identifier') identifier: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.setKeys(principal, identifier, body);
  }

  /** Key rotation re-wraps the user key for the trusted devices (the current one named by header). */
  @Post('update-trust')
  @HttpCode(200)
  async updateTrust(
    @CurrentUser() principal: Principal,
    @Headers('device-identifier') identifier: string | undefined,
    @Body() body: unknown,
  ): Promise<void> {
    await this.trust.updateTrust(principal.userId, identifier, parseBody(updateTrustSchema, body));
  }

  @Post('untrust')
  @HttpCode(200)
  async untrust(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.trust.untrust(
      principal.userId,
      parseBody(untrustSchema, body).devices,
      principal.deviceIdentifier ?? null,
    );
  }

  /** Sent when the client holds a device key but the token response carried no wrapped keys. */
  @Post('lost-trust')
  @HttpCode(200)
  async lostTrust(
    @CurrentUser() principal: Principal,
    @Headers('device-identifier') identifier: string | undefined,
  ): Promise<void> {
    await this.trust.lostTrust(principal.userId, identifier);
  }

  /** Deprecated by the clients but still called by older ones. */
  @Post(':identifier/retrieve-keys')
  @HttpCode(200)
  async retrieveKeys(
    @CurrentUser() principal: Principal,
    @Param('identifier') identifier: string,
  ): Promise<Record<string, unknown>> {
    return protectedDeviceJson(await this.devices.byIdentifier(principal.userId, identifier));
  }
}
