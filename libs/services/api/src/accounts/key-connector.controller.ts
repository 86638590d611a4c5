import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { parseBody } from '@keyhaven/contracts';
import { KeyConnectorStore, keyConnectorKeySchema } from '@keyhaven/domain-auth';
import {
  KeyConnectorEnrolmentService,
  enrollKeyConnectorSchema,
  setKeyConnectorKeySchema,
} from '@keyhaven/domain-admin-console';
import { CurrentUser, Public, type Principal } from '@keyhaven/platform-auth';

/**
 * Keyhaven as its own Key Connector (`KEY_CONNECTOR_ENABLED`), at `{DOMAIN}/api/key-connector`: the
 * clients call it with their Keyhaven access token. Answers 404 when the server hosts none.
 */
@Controller('key-connector')
export class KeyConnectorController {
  constructor(private readonly store: KeyConnectorStore) {}

  /** The web's "Test" button and health checks. */
  @Public()
  @Get('alive')
  alive(): { status: string } {
    return { status: 'ok' };
  }

  @Get('user-keys')
  async get(@CurrentUser() principal: Principal): Promise<{ key: string }> {
    return { key: await this.store.get(principal.userId) };
  }

  @Post('user-keys')
  @HttpCode(200)
  async create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.store.put(principal.userId, parseBody(keyConnectorKeySchema, body).key, 'create');
  }

  @Put('user-keys')
  async replace(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.store.put(principal.userId, parseBody(keyConnectorKeySchema, body).key, 'replace');
  }
}

/** The account endpoints of Key Connector (`api/accounts/…`). */
@Controller('accounts')
export class AccountKeyConnectorController {
  constructor(private readonly enrolment: KeyConnectorEnrolmentService) {}

  /** A new SSO member's first keys, wrapped by the Key Connector key (V1 and V2 bodies). */
  @Post('set-key-connector-key')
  @HttpCode(200)
  async setKey(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.enrolment.setKeyConnectorKey(principal.userId, parseBody(setKeyConnectorKeySchema, body));
  }

  /** A master-password member moves to Key Connector after putting their master key there. */
  @Post('convert-to-key-connector')
  @HttpCode(200)
  async convert(@CurrentUser() principal: Principal): Promise<void> {
    await this.enrolment.convert(principal.userId, null);
  }

  /** The SDK's form of the same move, with the user key re-wrapped by the Key Connector key. */
  @Post('key-connector/enroll')
  @HttpCode(200)
  async enroll(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    const { keyConnectorKeyWrappedUserKey } = parseBody(enrollKeyConnectorSchema, body);
    await this.enrolment.convert(principal.userId, keyConnectorKeyWrappedUserKey);
  }

  @Get('key-connector/confirmation-details/:identifier')
  async confirmationDetails(
    @CurrentUser() principal: Principal,
    @Param('identifier') identifier: string,
  ): Promise<Record<string, unknown>> {
    const details = await this.enrolment.confirmationDetails(principal.userId, identifier);
    return { ...details, object: 'keyConnectorConfirmationDetails' };
  }
}
