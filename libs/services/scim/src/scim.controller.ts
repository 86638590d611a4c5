import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ParseGuidPipe } from '@keyhaven/http';
import { Public } from '@keyhaven/platform-auth';
import {
  ScimGroupsService,
  ScimUsersService,
  detectProvider,
  lowerKeys,
  parseScim,
  scimGroupSchema,
  scimUserSchema,
} from '@keyhaven/domain-admin-console';
import { ScimIdPipe, ScimKeyGuard } from './scim-key.guard';

export const SCIM_MEDIA_TYPE = 'application/scim+json; charset=utf-8';

type Query = Record<string, unknown>;
type RequestHeaders = Record<string, string | string[] | undefined>;

/**
 * `/scim/v2/{organizationId}/Users` and `/Groups` (paths match in any case: the router is
 * case-insensitive). Public to the token guard: the organization's SCIM key is checked by
 * ScimKeyGuard instead. Errors leave in SCIM's shape (see the global error filter).
 */
@Controller('v2/:orgId')
@Public()
@UseGuards(ScimKeyGuard)
export class ScimUsersController {
  constructor(private readonly users: ScimUsersService) {}

  @Get('Users')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  list(@Param('orgId', ParseGuidPipe) orgId: string, @Query() query: Query): Promise<Record<string, unknown>> {
    return this.users.list(orgId, query);
  }

  @Get('Users/:id')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  get(
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('id', ScimIdPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return this.users.get(orgId, id);
  }

  @Post('Users')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  async create(
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const created = await this.users.create(orgId, parseScim(scimUserSchema, lowerKeys(body)), detectProvider(headers));
    void reply.status(201).header('Location', created.location);
    return created.body;
  }

  @Put('Users/:id')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  replace(
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('id', ScimIdPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.users.replace(orgId, id, parseScim(scimUserSchema, lowerKeys(body)));
  }

  @Patch('Users/:id')
  @HttpCode(204)
  patch(
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('id', ScimIdPipe) id: string,
    @Body() body: unknown,
  ): Promise<void> {
    return this.users.patch(orgId, id, body);
  }

  @Delete('Users/:id')
  @HttpCode(204)
  delete(@Param('orgId', ParseGuidPipe) orgId: string, @Param('id', ScimIdPipe) id: string): Promise<void> {
    return this.users.delete(orgId, id);
  }
}

@Controller('v2/:orgId')
@Public()
@UseGuards(ScimKeyGuard)
export class ScimGroupsController {
  constructor(private readonly groups: ScimGroupsService) {}

  @Get('Groups')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  list(@Param('orgId', ParseGuidPipe) orgId: string, @Query() query: Query): Promise<Record<string, unknown>> {
    return this.groups.list(orgId, query);
  }

  @Get('Groups/:id')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  get(
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('id', ScimIdPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return this.groups.get(orgId, id);
  }

  @Post('Groups')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  async create(
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const created = await this.groups.create(orgId, parseScim(scimGroupSchema, lowerKeys(body)));
    void reply.status(201).header('Location', created.location);
    return created.body;
  }

  @Put('Groups/:id')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  replace(
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('id', ScimIdPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.groups.replace(orgId, id, parseScim(scimGroupSchema, lowerKeys(body)));
  }

  @Patch('Groups/:id')
  @HttpCode(204)
  patch(
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('id', ScimIdPipe) id: string,
    @Body() body: unknown,
  ): Promise<void> {
    return this.groups.patch(orgId, id, body);
  }

  @Delete('Groups/:id')
  @HttpCode(204)
  delete(@Param('orgId', ParseGuidPipe) orgId: string, @Param('id', ScimIdPipe) id: string): Promise<void> {
    return this.groups.delete(orgId, id);
  }
}
