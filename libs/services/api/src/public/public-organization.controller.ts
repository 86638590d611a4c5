import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { notFound, parseBody, listJson, guid } from '@keyhaven/contracts';
import {
  CollectionRepository,
  CollectionsService,
  DirectoryImportService,
  PoliciesService,
  PolicyRepository,
  directoryImportSchema,
  policyRequestSchema,
  type Collection,
  type Policy,
} from '@keyhaven/domain-admin-console';
import { CurrentUser, OrganizationApi, type Principal } from '@keyhaven/platform-auth';
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

@OrganizationApi()
@Controller('public/collections')
export class PublicCollectionsController {
  constructor(
    private readonly collections: CollectionRepository,
    private readonly service: CollectionsService,
  ) {}

  private async json(c: Collection): Promise<Record<string, unknown>> {
    return {
      object: 'collection',
      id: c.id,
      externalId: c.externalId,
      groups: (await this.collections.accessOf(c.id)).groups,
    };
  }

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson(await Promise.all((await this.collections.listForOrg(principal.userId)).map((c) => this.json(c))));
  }

  @Get(':id')
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    const collection = await this.collections.findInOrg(principal.userId, id);
    if (!collection) throw notFound('Collection');
    return this.json(collection);
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
    const collection = await this.collections.findInOrg(principal.userId, id);
    if (!collection) throw notFound('Collection');
    const current = await this.collections.accessOf(id);
    const updated = await this.service.update(organizationActor(principal), id, {
      name: collection.name,
      externalId: request.externalId ?? null,
      users: current.users,
      groups: request.groups,
    });
    return this.json(updated);
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
  constructor(
    private readonly policies: PolicyRepository,
    private readonly service: PoliciesService,
  ) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.policies.listForOrg(principal.userId)).map(policyJson));
  }

  @Get(':type')
  async get(
    @CurrentUser() principal: Principal,
    @Param('type', ParseIntPipe) type: number,
  ): Promise<Record<string, unknown>> {
    this.service.assertKnownType(type);
    const policy = await this.policies.find(principal.userId, type);
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
  @HttpCode(200)
  async import(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return {
      ...(await this.directory.import(organizationActor(principal), parseBody(directoryImportSchema, body))),
      object: 'organizationImport',
    };
  }
}
