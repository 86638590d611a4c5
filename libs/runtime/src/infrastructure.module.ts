import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SchedulerRegistry, ScheduleModule } from '@nestjs/schedule';
import { Database, EventRecorder, JobScheduler, PushOutbox, createJobLock } from '@keyhaven/db';
import { EVENT_BUS, PUSH_OUTBOX } from '@keyhaven/bus';
import { CACHE_STORE } from '@keyhaven/cache';
import { BLOB_STORE } from '@keyhaven/storage';
import { MAILER } from '@keyhaven/mail';
import type { Infrastructure } from './infrastructure';
import { ScheduledBackupJob } from './backup/scheduled-backup';
import { PushOutboxRelay } from './push-outbox-relay';

const INFRASTRUCTURE = Symbol('INFRASTRUCTURE');

/** Exposes the connected adapters to every module and closes them after the HTTP server has drained. */
@Global()
@Module({})
export class InfrastructureModule implements OnApplicationShutdown {
  constructor(@Inject(INFRASTRUCTURE) private readonly infrastructure: Infrastructure) {}

  static forRoot(infrastructure: Infrastructure): DynamicModule {
    const database = new Database(infrastructure.dataSource);
    const pushOutbox = new PushOutbox(infrastructure.dataSource);
    const providers = [
      { provide: INFRASTRUCTURE, useValue: infrastructure },
      { provide: DataSource, useValue: infrastructure.dataSource },
      { provide: Database, useValue: database },
      { provide: EventRecorder, useValue: new EventRecorder(database) },
      { provide: EVENT_BUS, useValue: infrastructure.bus },
      { provide: CACHE_STORE, useValue: infrastructure.cacheStore },
      { provide: BLOB_STORE, useValue: infrastructure.blobs },
      { provide: MAILER, useValue: infrastructure.mailer },
      // Pushes the bus refused wait here (PushPublisher) and every instance relays them when it is back.
      { provide: PUSH_OUTBOX, useValue: pushOutbox },
      {
        // Every periodic job of every service, each under its advisory lock (one instance runs it).
        provide: JobScheduler,
        inject: [SchedulerRegistry],
        useFactory: (registry: SchedulerRegistry) =>
          new JobScheduler(database, createJobLock(infrastructure.dataSource), registry),
      },
      // BACKUP_SCHEDULE: one instance of the deployment writes each scheduled backup.
      ScheduledBackupJob,
      {
        provide: PushOutboxRelay,
        inject: [JobScheduler],
        useFactory: (scheduler: JobScheduler) => new PushOutboxRelay(pushOutbox, infrastructure.bus, scheduler),
      },
    ];
    return {
      module: InfrastructureModule,
      imports: [ScheduleModule.forRoot()],
      providers,
      exports: providers.map((p) => ('provide' in p ? p.provide : p)),
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.infrastructure.close();
  }
}
