import { AsyncLocalStorage } from 'node:async_hooks';
import type { QueryRunner } from 'typeorm';

/**
 * The query runner whose transaction the current async context runs in. The embedded driver reads
 * it to refuse, at once, a second connection asked for from inside a transaction that already
 * holds the only one (which would otherwise wait for itself).
 */
export const transactionHolder = new AsyncLocalStorage<QueryRunner>();
