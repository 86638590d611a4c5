import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { CollectService } from '@keyhaven/domain-events';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

/**
 * `POST events/collect`: clients upload what they observed (exports, item views). A malformed body
 * is a 400; events of other types, or for items and organizations the caller cannot see, are dropped.
 */
@Controller()
export class CollectController {
  constructor(private readonly service: CollectService) {}

  @Post('collect')
  @HttpCode(200)
  async collect(@CurrentUser() user: Principal, @Body() body: unknown): Promise<void> {
    await this.service.collect(user.userId, body);
  }
}
