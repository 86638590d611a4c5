import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigModule, loadConfig, serverConfigSchema, type KeyhavenConfig } from '@keyhaven/config';
import { createLogger } from '@keyhaven/http';
import { connectInfrastructure, InfrastructureModule } from '@keyhaven/runtime';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { ComplianceReportsModule } from '@keyhaven/domain-events';

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
