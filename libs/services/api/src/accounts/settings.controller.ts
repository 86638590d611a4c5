import { Body, Controller, Get, HttpCode, Put } from '@nestjs/common';
import { z } from 'zod';
import { parseBody } from '@keyhaven/contracts';
import { ProfileService, domainsJson } from '@keyhaven/domain-auth';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

const domainsSchema = z.object({
  equivalentDomains: z
    .array(z.array(z.string().max(256)).max(100))
    .max(1000)
    .nullish(),
  excludedGlobalEquivalentDomains: z.array(z.number().int()).max(1000).nullish(),
});

@Controller('settings/domains')
export class SettingsController {
  constructor(private readonly profiles: ProfileService) {}

  @Get()
  async get(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return domainsJson(await this.profiles.get(principal.userId));
  }

  @Put()
  @HttpCode(200)
  async update(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return domainsJson(await this.profiles.updateDomains(principal.userId, parseBody(domainsSchema, body)));
  }
}
