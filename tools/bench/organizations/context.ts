import { type Pool } from 'pg';
import { type ServerProcess, type Session } from '@keyhaven/testing';
import type { Account } from '@keyhaven/vault-crypto';
import { organizationApiToken } from '../directory';
import { type StatementCounter } from './statement-counter';

/** What every measured case runs against: one all-in-one server, its database and the statement counter. */
export interface Context {
  server: ServerProcess;
  pool: Pool;
  counter: StatementCounter;
  owner: Account;
  session: Session;
}

export function orgToken(ctx: Context, orgId: string): Promise<string> {
  return organizationApiToken(ctx.server.http, ctx.owner, ctx.session.accessToken, orgId);
}

/** Nearest-rank percentile of the samples (the list is not reordered). */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Milliseconds in the tables' fixed-width column. */
export const fmt = (n: number): string => n.toFixed(1).padStart(8);
