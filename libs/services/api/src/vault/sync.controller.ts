import { Controller, Get, Query } from '@nestjs/common';
import { SyncWithSendsService } from '@keyhaven/domain-tools';
import { ExpensiveCall, CurrentUser, type Principal } from '@keyhaven/platform-auth';

@Controller('sync')
export class SyncController {
  constructor(private readonly syncService: SyncWithSendsService) {}

  @Get()
  @ExpensiveCall('sync')
  sync(
    @CurrentUser() principal: Principal,
    @Query('excludeDomains') excludeDomains?: string,
  ): Promise<Record<string, unknown>> {
    return this.syncService.sync(principal.userId, excludeDomains === 'true');
  }
}
