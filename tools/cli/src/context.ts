import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Agent } from 'undici';
import { ConfigModule, loadConfig, serverConfigSchema, type KeyhavenConfig } from '@keyhaven/config';
import { createLogger } from '@keyhaven/http';
import { connectInfrastructure, InfrastructureModule } from '@keyhaven/runtime';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { ComplianceReportsModule } from '@keyhaven/domain-events';

/** Exit codes every command shares. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, unauthorized: 4 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

@Module({})
class CliModule {
  static forRoot(
    config: KeyhavenConfig,
    infrastructure: Awaited<ReturnType<typeof connectInfrastructure>>,
  ): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config),
        InfrastructureModule.forRoot(infrastructure),
        AuthDomainModule,
        AdminConsoleDomainModule,
        ComplianceReportsModule,
      ],
    };
  }
}

/**
 * Direct mode: the same configuration variables as the server (DATABASE_URL or DATA_DIR, REDIS_URL…),
 * the same domain services, no HTTP. Pending migrations are applied on connect, as at server boot.
 */
export async function withDomain<T>(fn: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  const config = loadConfig(serverConfigSchema);
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const infrastructure = await connectInfrastructure(config, logger);
  // Nest declares its options as a class but reads them as a plain object.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config, infrastructure), { logger: false });
  try {
    return await fn(app);
  } finally {
    // Closes the infrastructure too (InfrastructureModule's shutdown hook).
    await app.close();
  }
}

export interface ServerOptions {
  readonly server?: string;
  readonly token?: string;
  readonly insecure?: boolean;
}

/** Server mode: the running server's admin API with the admin token (`--token` or KEYHAVEN_ADMIN_TOKEN). */
export async function callServer(
  options: ServerOptions,
  method: 'GET' | 'POST',
  path: string,
): Promise<{ status: number; body: string }> {
  const token = options.token ?? process.env['KEYHAVEN_ADMIN_TOKEN'];
  if (!options.server) throw new CliError('--server is required', EXIT.usage);
  if (!token) throw new CliError('the admin token is required: --token or KEYHAVEN_ADMIN_TOKEN', EXIT.usage);
  const url = `${options.server.replace(/\/+$/, '')}/admin/${path}`;
  const dispatcher = options.insecure ? new Agent({ connect: { rejectUnauthorized: false } }) : undefined;
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    ...(dispatcher ? { dispatcher } : {}),
  } as RequestInit);
  const body = await response.text();
  if (response.status === 404) throw new CliError(`not found (${path})`, EXIT.notFound);
  if (response.status === 401 || response.status === 429)
    throw new CliError(`the server refused the admin token (${response.status})`, EXIT.unauthorized);
  if (response.status >= 400)
    throw new CliError(`the server answered ${response.status}: ${body.slice(0, 300)}`, EXIT.failure);
  return { status: response.status, body };
}

export function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}
