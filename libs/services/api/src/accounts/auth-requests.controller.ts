import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Get, Headers, HttpCode, Ip, Param, Post, Put, Query } from '@nestjs/common';
import { listJson, parseBody } from '@keyhaven/contracts';
import { AuthRequestsService, authRequestCreateSchema, authRequestUpdateSchema } from '@keyhaven/domain-auth';
import { CurrentUser, Public, type Principal } from '@keyhaven/platform-auth';

/** Login with device (`api/auth-requests`): the requesting device is anonymous, the approving one logged in. */
@Controller('auth-requests')
export class AuthRequestsController {
  constructor(private readonly authRequests: AuthRequestsService) {}

  @Public()
  @Post()
  @HttpCode(200)
  async create(
    @Body() body: unknown,
    @Headers('device-type') deviceType: string | undefined,
    @Ip() ip: string,
  ): Promise<Record<string, unknown>> {
    const request = await this.authRequests.create(parseBody(authRequestCreateSchema, body), deviceType, ip);
    return this.authRequests.json(request);
  }

  /** Trusted device encryption: a signed-in device without keys asks its organization's admins. */
  @Post('admin-request')
  @HttpCode(200)
  async adminRequest(
    @CurrentUser() principal: Principal,
    @Body() body: unknown,
    @Headers('device-type') deviceType: string | undefined,
    @Ip() ip: string,
  ): Promise<Record<string, unknown>> {
    const request = await this.authRequests.createAdminRequest(
      principal.userId,
      parseBody(authRequestCreateSchema, body),
      deviceType,
      ip,
    );
    return this.authRequests.json(request);
  }

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.authRequests.pending(principal.userId)).map((r) => this.authRequests.json(r)));
  }

  @Get('pending')
  async pending(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.authRequests.pending(principal.userId)).map((r) => this.authRequests.json(r)));
  }

  @Get(':id')
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return this.authRequests.json(await this.authRequests.get(principal.userId, id));
  }

  @Public()
  @Get(':id/response')
  async response(
    @Param('id', ParseGuidPipe) id: string,
    @Query('code') code: string | undefined,
  ): Promise<Record<string, unknown>> {
    return this.authRequests.json(await this.authRequests.response(id, code));
  }

  @Put(':id')
  async answer(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.authRequests.json(
      await this.authRequests.answer(principal.userId, id, parseBody(authRequestUpdateSchema, body)),
    );
  }
}
