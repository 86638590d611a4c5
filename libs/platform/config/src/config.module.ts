import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { KeyhavenConfig } from './schemas';

export const KEYHAVEN_CONFIG = Symbol('KEYHAVEN_CONFIG');

/** Makes the once-validated configuration injectable everywhere (`@Inject(KEYHAVEN_CONFIG)`). */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: KeyhavenConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: KEYHAVEN_CONFIG, useValue: config }],
      exports: [KEYHAVEN_CONFIG],
    };
  }
}
