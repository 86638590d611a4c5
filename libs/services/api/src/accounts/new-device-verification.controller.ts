import { Body, Controller, HttpCode, Post, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseBody } from '@keyhaven/contracts';
import { NewDeviceSettingsService } from '@keyhaven/domain-auth';
import { CurrentUser, Public, type Principal } from '@keyhaven/platform-auth';

const resendSchema = z.object({
  email: z.string().max(256),
  masterPasswordHash: z.string().max(1000).nullish(),
  otp: z.string().max(100).nullish(),
});
const verifyDevicesSchema = z.object({
  verifyDevices: z.boolean(),
  masterPasswordHash: z.string().max(1000).nullish(),
  otp: z.string().max(100).nullish(),
});

/** New-device verification: the resend the login screen offers and the user's opt-out. */
@Controller('accounts')
export class NewDeviceVerificationController {
  constructor(private readonly settings: NewDeviceSettingsService) {}

  @Public()
  @Post('resend-new-device-otp')
  @HttpCode(200)
  async resend(@Body() body: unknown, @Req() request: FastifyRequest): Promise<void> {
    await this.settings.resend(request.ip, parseBody(resendSchema, body));
  }

  @Put('verify-devices')
  @Post('verify-devices')
  @HttpCode(200)
  async verifyDevices(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.settings.setVerifyDevices(principal.userId, parseBody(verifyDevicesSchema, body));
  }
}
