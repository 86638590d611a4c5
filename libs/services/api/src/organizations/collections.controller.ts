import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { parseBody, listJson, guid } from '@keyhaven/contracts';
import {
  CollectionsService,
  collectionAccessJson,
  collectionDetailsJson,
  collectionJson,
  collectionRequestSchema,
  type Membership,
} from '@keyhaven/domain-admin-console';
import { ExpensiveCall, CurrentUser, OrgMember, OrgPermission, type Principal } from '@keyhaven/platform-auth';

const idsSchema = z.object({ ids: z.array(guid).min(1).max(500) });

/** `GET api/collections`: the caller's collections across every organization. */
@Controller('collections')
export class MyCollectionsController {
  constructor(private readonly collections: CollectionsService) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.collections.listForUser(principal.userId)).map(collectionDetailsJson));
  }
}

/**
 * Any confirmed member reaches these routes; what they see or change is decided per collection by
 * the domain (org-wide collection rights, or `manage` on that collection).
 */
@Controller('organizations/:orgId/collections')
@OrgPermission('member')
export class CollectionsController {
  constructor(private readonly service: CollectionsService) {}

  /** Admins (or Custom collection managers) see all; other members see the ones assigned to them. */
  @Get()
  async list(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return listJson((await this.service.listVisible(actor)).map(collectionJson));
  }

  @Get('details')
  @ExpensiveCall('details')
  @OrgPermission('admin', 'createNewCollections', 'editAnyCollection', 'deleteAnyCollection')
  async details(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return listJson((await this.service.listAccessDetails(actor)).map((c) => collectionAccessJson(c, c, c.mine)));
  }

  @Post()
  @HttpCode(200)
  @OrgPermission('admin', 'createNewCollections')
  async create(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    const collection = await this.service.create(actor, parseBody(collectionRequestSchema, body));
    return collectionAccessJson(collection, collection);
  }

  @Get(':collectionId')
  async get(
    @OrgMember() actor: Membership,
    @Param('collectionId', ParseGuidPipe) collectionId: string,
  ): Promise<Record<string, unknown>> {
    return collectionJson(await this.service.getVisible(actor, collectionId));
  }

  @Get(':collectionId/details')
  async getDetails(
    @OrgMember() actor: Membership,
    @Param('collectionId', ParseGuidPipe) collectionId: string,
  ): Promise<Record<string, unknown>> {
    const collection = await this.service.getManageable(actor, collectionId);
    return collectionAccessJson(collection, collection);
  }

  @Put(':collectionId')
  @HttpCode(200)
  async update(
    @OrgMember() actor: Membership,
    @Param('collectionId', ParseGuidPipe) collectionId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const collection = await this.service.update(actor, collectionId, parseBody(collectionRequestSchema, body));
    return collectionAccessJson(collection, collection);
  }

  @Delete(':collectionId')
  @HttpCode(200)
  async delete(
    @OrgMember() actor: Membership,
    @Param('collectionId', ParseGuidPipe) collectionId: string,
  ): Promise<void> {
    await this.service.delete(actor, [collectionId]);
  }

  @Delete()
  @HttpCode(200)
  async deleteMany(@OrgMember() actor: Membership, @Body() body: unknown): Promise<void> {
    await this.service.delete(actor, parseBody(idsSchema, body).ids);
  }
}
