import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { notFound, parseBody, listJson, guid } from '@keyhaven/contracts';
import {
  CollectionRepository,
  CollectionsService,
  OrgAccess,
  collectionAccessJson,
  collectionDetailsJson,
  collectionJson,
  collectionRequestSchema,
} from '@keyhaven/domain-admin-console';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

const idsSchema = z.object({ ids: z.array(guid).min(1).max(500) });
const COLLECTION_ADMIN = ['admin', 'createNewCollections', 'editAnyCollection', 'deleteAnyCollection'] as const;

/** `GET api/collections`: the caller's collections across every organization. */
@Controller('collections')
export class MyCollectionsController {
  constructor(private readonly collections: CollectionRepository) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.collections.listForUser(principal.userId)).map(collectionDetailsJson));
  }
}

@Controller('organizations/:orgId/collections')
export class CollectionsController {
  constructor(
    private readonly service: CollectionsService,
    private readonly collections: CollectionRepository,
    private readonly access: OrgAccess,
  ) {}

  /** Admins (or Custom collection managers) see all; other members see the ones assigned to them. */
  @Get()
  async list(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
  ): Promise<Record<string, unknown>> {
    const admin = await this.access.find(orgId, principal.userId, ...COLLECTION_ADMIN);
    if (admin) return listJson((await this.collections.listForOrg(orgId)).map(collectionJson));
    await this.access.require(orgId, principal.userId);
    const mine = (await this.collections.listForUser(principal.userId)).filter((c) => c.organizationId === orgId);
    return listJson(mine.map(collectionJson));
  }

  @Get('details')
  async details(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, ...COLLECTION_ADMIN);
    const mine = new Map((await this.collections.listForUser(principal.userId)).map((c) => [c.id, c]));
    const all = await this.collections.listForOrg(orgId);
    return listJson(
      await Promise.all(
        all.map(async (c) => collectionAccessJson(c, await this.collections.accessOf(c.id), mine.get(c.id))),
      ),
    );
  }

  @Post()
  @HttpCode(200)
  async create(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const actor = await this.access.require(orgId, principal.userId, 'admin', 'createNewCollections');
    const collection = await this.service.create(actor, parseBody(collectionRequestSchema, body));
    return collectionAccessJson(collection, await this.collections.accessOf(collection.id));
  }

  @Get(':collectionId')
  async get(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('collectionId', ParseGuidPipe) collectionId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId);
    const admin = await this.access.find(orgId, principal.userId, ...COLLECTION_ADMIN);
    const collection = admin
      ? await this.collections.findInOrg(orgId, collectionId)
      : (await this.collections.listForUser(principal.userId)).find(
          (c) => c.id === collectionId && c.organizationId === orgId,
        );
    if (!collection) throw notFound('Collection');
    return collectionJson(collection);
  }

  @Get(':collectionId/details')
  async getDetails(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('collectionId', ParseGuidPipe) collectionId: string,
  ): Promise<Record<string, unknown>> {
    const actor = await this.access.require(orgId, principal.userId);
    const collection = await this.service.requireManageable(actor, collectionId, 'editAnyCollection');
    return collectionAccessJson(collection, await this.collections.accessOf(collection.id));
  }

  @Put(':collectionId')
  @HttpCode(200)
  async update(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('collectionId', ParseGuidPipe) collectionId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const actor = await this.access.require(orgId, principal.userId);
    const collection = await this.service.update(actor, collectionId, parseBody(collectionRequestSchema, body));
    return collectionAccessJson(collection, await this.collections.accessOf(collection.id));
  }

  @Delete(':collectionId')
  @HttpCode(200)
  async delete(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('collectionId', ParseGuidPipe) collectionId: string,
  ): Promise<void> {
    const actor = await this.access.require(orgId, principal.userId);
    await this.service.delete(actor, [collectionId]);
  }

  @Delete()
  @HttpCode(200)
  async deleteMany(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<void> {
    const actor = await this.access.require(orgId, principal.userId);
    await this.service.delete(actor, parseBody(idsSchema, body).ids);
  }
}
