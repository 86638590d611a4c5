import { Body, Controller, HttpCode, Put } from '@nestjs/common';
import { parseBody } from '@keyhaven/contracts';
import { TempPasswordService, updateTempPasswordSchema } from '@keyhaven/domain-auth';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

/** After an admin's account recovery the member replaces the temporary password with their own. */
@Controller('accounts')
export class TempPasswordController {
  constructor(private readonly tempPassword: TempPasswordService) {}

  @Put('update-temp-password')
  @HttpCode(200)
  async update(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.tempPassword.update(principal.userId, parseBody(updateTempPasswordSchema, body));
  }
}
