import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { notFound, parseBody, listJson, guid } from '@keyhaven/contracts';
import {
  CollectionsService,
  DirectoryImportService,
  PoliciesService,
  directoryImportSchema,
  policyRequestSchema,
  type CollectionWithAccess,
  type Policy,
} from '@keyhaven/domain-admin-console';
import { ExpensiveCall, CurrentUser, OrganizationApi, type Principal } from '@keyhaven/platform-auth';
import { organizationActor } from './org-actor';

const access = z.object({
  id: guid,
  readOnly: z.boolean().default(false),
  hidePasswords: z.boolean().default(false),
  manage: z.boolean().default(false),
});
const collectionUpdateSchema = z.object({
  externalId: z.string().max(300).nullish(),
  groups: z.array(access).default([]),
});

const policyJson = (p: Policy): Record<string, unknown> => ({
  object: 'policy',
  id: p.id,
  type: p.type,
  enabled: p.enabled,
  data: p.data,
});

const collectionJson = (c: CollectionWithAccess): Record<string, unknown> => ({
  object: 'collection',
  id: c.id,
  externalId: c.externalId,
  groups: c.groups,
});

@OrganizationApi()
@Controller('public/collections')
export class PublicCollectionsController {
  constructor(private readonly service: CollectionsService) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.service.listWithAccess(principal.userId)).map(collectionJson));
  }

  @Get(':id')
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return collectionJson(await this.service.getWithAccess(principal.userId, id));
  }

  /** The public API can change a collection's external id and group access; names are encrypted client-side. */
  @Put(':id')
  @HttpCode(200)
  async update(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const request = parseBody(collectionUpdateSchema, body);
    return collectionJson(
      await this.service.updateExternal(organizationActor(principal), id, {
        externalId: request.externalId ?? null,
        groups: request.groups,
      }),
    );
  }

  @Delete(':id')
  @HttpCode(200)
  async delete(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.service.delete(organizationActor(principal), [id]);
  }
}

@OrganizationApi()
@Controller('public/policies')
export class PublicPoliciesController {
  constructor(private readonly service: PoliciesService) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.service.list(principal.userId)).map(policyJson));
  }

  @Get(':type')
  async get(
    @CurrentUser() principal: Principal,
    @Param('type', ParseIntPipe) type: number,
  ): Promise<Record<string, unknown>> {
    const policy = await this.service.find(principal.userId, type);
    if (!policy) throw notFound('Policy');
    return policyJson(policy);
  }

  @Put(':type')
  @HttpCode(200)
  async put(
    @CurrentUser() principal: Principal,
    @Param('type', ParseIntPipe) type: number,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return policyJson(await this.service.save(principal.userId, type, parseBody(policyRequestSchema, body)));
  }
}

@OrganizationApi()
@Controller('public/organization')
export class PublicOrganizationController {
  constructor(private readonly directory: DirectoryImportService) {}

  @Post('import')
  @ExpensiveCall('directory-import')
  @HttpCode(200)
  async import(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return {
      ...(await this.directory.import(organizationActor(principal), parseBody(directoryImportSchema, body))),
      object: 'organizationImport',
    };
  }
}
