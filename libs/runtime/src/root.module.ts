import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, RouterModule } from '@nestjs/core';
import { ConfigModule, type KeyhavenConfig } from '@keyhaven/config';
import { HealthModule, PRE_PARSE_ADMISSION, type Lifecycle } from '@keyhaven/http';
import { ExpensiveBodyAdmission, GlobalAuthGuard, WriteBudgetGuard } from '@keyhaven/platform-auth';
import { InfrastructureModule } from './infrastructure.module';
import type { Infrastructure } from './infrastructure';
import type { MountedService } from './service-spec';

/** The application root: shared infrastructure, health endpoints, and each service under its prefix. */
@Module({})
export class RootModule {
  static forRoot(
    config: KeyhavenConfig,
    infrastructure: Infrastructure,
    services: MountedService[],
    lifecycle?: Lifecycle,
  ): DynamicModule {
    return {
      module: RootModule,
      imports: [
        ConfigModule.forRoot(config),
        InfrastructureModule.forRoot(infrastructure),
        HealthModule.forRoot(infrastructure.healthChecks, lifecycle),
        ...services.map((s) => s.module),
        RouterModule.register(services.map((s) => ({ path: s.prefix, module: s.module }))),
      ],
      providers: [
        // In this order: the write budget counts the principal the auth guard sets.
        { provide: APP_GUARD, useClass: GlobalAuthGuard },
        { provide: APP_GUARD, useClass: WriteBudgetGuard },
        { provide: PRE_PARSE_ADMISSION, useClass: ExpensiveBodyAdmission },
      ],
    };
  }
}
