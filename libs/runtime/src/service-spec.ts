import type { Type } from '@nestjs/common';

/** A service module and the URL prefix it answers under (`api`, `identity`, …). */
export interface MountedService {
  readonly prefix: string;
  readonly module: Type;
}
