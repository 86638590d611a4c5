import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { parseBody } from '@keyhaven/contracts';
import { AccountsService, registerFinishSchema } from '@keyhaven/domain-auth';
import { Public } from '@keyhaven/platform-auth';
import { ThrottledByIp } from './ip-throttle.guard';

const preloginSchema = z.object({ email: z.string().max(256) });
const verificationSchema = z.object({ email: z.email().max(256), name: z.string().max(50).nullish() });

/** Every route here takes or probes credentials: each request counts against its address's limit first. */
@Public()
@ThrottledByIp()
@Controller('accounts')
export class IdentityAccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post(['prelogin/password', 'prelogin'])
  @HttpCode(200)
  async prelogin(@Body() body: unknown): Promise<Record<string, unknown>> {
    const kdf = await this.accounts.preloginKdf(parseBody(preloginSchema, body).email);
    return {
      kdfSettings: { kdfType: kdf.kdf, iterations: kdf.iterations, memory: kdf.memory, parallelism: kdf.parallelism },
      salt: kdf.salt,
      kdf: kdf.kdf,
      kdfIterations: kdf.iterations,
      kdfMemory: kdf.memory,
      kdfParallelism: kdf.parallelism,
    };
  }

  /** 200 with the token as a JSON string when no mail is sent; 204 after mailing it. */
  @Post('register/send-verification-email')
  async sendVerificationEmail(@Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const request = parseBody(verificationSchema, body);
    const token = await this.accounts.sendVerificationEmail(request.email, request.name ?? null);
    if (token === null) await reply.status(204).send();
    else await reply.status(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(token));
  }

  @Post('register/finish')
  @HttpCode(200)
  async registerFinish(@Body() body: unknown): Promise<{ object: 'registerFinish'; captchaBypassToken: null }> {
    await this.accounts.register(parseBody(registerFinishSchema, body), true);
    return { object: 'registerFinish', captchaBypassToken: null };
  }

  /** The pre-2024 registration call; still used by scripts and older clients. */
  @Post('register')
  @HttpCode(200)
  async registerLegacy(@Body() body: unknown): Promise<{ object: 'register'; captchaBypassToken: null }> {
    await this.accounts.register(parseBody(registerFinishSchema, body), false);
    return { object: 'register', captchaBypassToken: null };
  }
}
