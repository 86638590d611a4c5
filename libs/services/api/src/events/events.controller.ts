import { Controller, Get, Param, Query } from '@nestjs/common';
import { z } from 'zod';
import { guid, parseBody } from '@keyhaven/contracts';
import { EventQueryService, eventJson, eventListJson, publicEventJson } from '@keyhaven/domain-events';
import type { Membership } from '@keyhaven/domain-admin-console';
import { ParseGuidPipe } from '@keyhaven/http';
import { CurrentUser, OrgMember, OrgPermission, OrganizationApi, type Principal } from '@keyhaven/platform-auth';

const rangeSchema = z.object({
  start: z.string().max(64).optional(),
  end: z.string().max(64).optional(),
  continuationToken: z.string().max(128).optional(),
});
const publicSchema = rangeSchema.extend({ actingUserId: guid.optional(), itemId: guid.optional() });

/** The event log of an organization, and of one of its members. */
@Controller('organizations/:orgId')
@OrgPermission('accessEventLogs')
export class OrganizationEventsController {
  constructor(private readonly events: EventQueryService) {}

  @Get('events')
  async organization(@OrgMember() actor: Membership, @Query() query: unknown): Promise<Record<string, unknown>> {
    return eventListJson(
      await this.events.organization(actor.organizationId, parseBody(rangeSchema, query)),
      eventJson,
    );
  }

  @Get('users/:id/events')
  async member(
    @OrgMember() actor: Membership,
    @Param('id', ParseGuidPipe) id: string,
    @Query() query: unknown,
  ): Promise<Record<string, unknown>> {
    const page = await this.events.organizationUser(actor.organizationId, id, parseBody(rangeSchema, query));
    return eventListJson(page, eventJson);
  }
}

/** An item's events (its owner, or the organization's event-log readers) and the caller's own. */
@Controller()
export class UserEventsController {
  constructor(private readonly events: EventQueryService) {}

  @Get('ciphers/:id/events')
  async cipher(
    @CurrentUser() user: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Query() query: unknown,
  ): Promise<Record<string, unknown>> {
    return eventListJson(await this.events.cipher(id, user.userId, parseBody(rangeSchema, query)), eventJson);
  }

  @Get('events')
  async own(@CurrentUser() user: Principal, @Query() query: unknown): Promise<Record<string, unknown>> {
    return eventListJson(await this.events.user(user.userId, parseBody(rangeSchema, query)), eventJson);
  }
}

/** `public/events` for an organization's API key: filter by acting member or item. */
@OrganizationApi()
@Controller('public/events')
export class PublicEventsController {
  constructor(private readonly events: EventQueryService) {}

  @Get()
  async list(@CurrentUser() principal: Principal, @Query() query: unknown): Promise<Record<string, unknown>> {
    const page = await this.events.publicApi(principal.userId, parseBody(publicSchema, query));
    return eventListJson(page, publicEventJson);
  }
}
