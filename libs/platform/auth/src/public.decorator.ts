import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'keyhaven:isPublic';

/** Marks a route (or controller) as reachable without a token. Everything else is guarded. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
