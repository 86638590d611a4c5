import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { GuardedFetcher } from './guarded-fetch';

/** The guarded fetch built from the `OUTBOUND_*` settings; one instance (and connection pool) per process. */
@Module({
  providers: [
    {
      provide: GuardedFetcher,
      inject: [KEYHAVEN_CONFIG],
      useFactory: (config: KeyhavenConfig) =>
        new GuardedFetcher({
          allowNetworks: config.OUTBOUND_ALLOW_NETWORKS,
          routes: new Map(config.OUTBOUND_CONNECT_TO.map((r) => [r.from, { address: r.address, port: r.port }])),
          connectTimeoutMs: config.OUTBOUND_CONNECT_TIMEOUT_MS,
          readTimeoutMs: config.OUTBOUND_READ_TIMEOUT_MS,
          totalTimeoutMs: config.OUTBOUND_TIMEOUT_MS,
          maxBytes: config.OUTBOUND_MAX_BYTES,
        }),
    },
  ],
  exports: [GuardedFetcher],
})
export class OutboundModule implements OnApplicationShutdown {
  constructor(@Inject(GuardedFetcher) private readonly fetcher: GuardedFetcher) {}

  async onApplicationShutdown(): Promise<void> {
    await this.fetcher.close();
  }
}
