import { z } from 'zod';

// Per-user request limits beyond the login ones: sync, writes, and the expensive calls.

export const limitsShape = {
  /** `GET /api/sync` calls one user (or organization API key) may have running at once; more get 429. */
  SYNC_CONCURRENT_PER_USER: z.coerce.number().int().min(1).default(2),
  /** `GET /api/sync` calls one user may start per minute. */
  SYNC_PER_MINUTE_PER_USER: z.coerce.number().int().min(1).default(60),
  /** Other authenticated changes (POST, PUT, PATCH, DELETE) one user or organization API key may make per minute; more get 429. */
  WRITES_PER_MINUTE_PER_USER: z.coerce.number().int().min(1).default(1200),
  /** Imports, exports, organization details, bulk item operations and directory imports running at once per user (each kind counted apart). */
  EXPENSIVE_CALLS_CONCURRENT_PER_USER: z.coerce.number().int().min(1).default(2),
  /** The same calls started per user per minute (each kind counted apart). */
  EXPENSIVE_CALLS_PER_MINUTE_PER_USER: z.coerce.number().int().min(1).default(30),
};
