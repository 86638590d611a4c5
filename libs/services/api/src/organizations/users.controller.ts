import { ParseGuidPipe } from '@keyhaven/http';
import { Controller, Get, Param } from '@nestjs/common';
import { notFound } from '@keyhaven/contracts';
import { UserRepository } from '@keyhaven/domain-auth';

/** `GET api/users/{id}/public-key`: what an admin's client needs to wrap the org key for a member. */
@Controller('users')
export class UsersController {
  constructor(private readonly users: UserRepository) {}

  @Get(':userId/public-key')
  async publicKey(@Param('userId', ParseGuidPipe) userId: string): Promise<Record<string, unknown>> {
    const user = await this.users.findById(userId);
    if (!user?.publicKey) throw notFound('User');
    return { userId: user.id, publicKey: user.publicKey, object: 'userKey' };
  }
}
