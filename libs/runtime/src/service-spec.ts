import type { Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** A service module and the URL prefix it answers under (`api`, `identity`, …). */
export interface MountedService {
  readonly prefix: string;
  readonly module: Type;
  /** Called once before the application initialises: what the module needs of the app itself (a WebSocket adapter). */
  readonly configure?: (app: NestFastifyApplication) => void;
  /** Called once the application has initialised, before it listens (e.g. to start its message consumers). */
  readonly start?: (app: NestFastifyApplication) => Promise<void>;
}
