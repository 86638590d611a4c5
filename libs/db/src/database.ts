import { Injectable } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';

/** Parameterised SQL ($1, $2 …), the same text on PostgreSQL and PGlite. */
export interface Sql {
  /** Rows of a SELECT or of a statement with RETURNING. */
  rows<T>(text: string, params?: unknown[]): Promise<T[]>;
  /** Number of rows an INSERT/UPDATE/DELETE touched. */
  execute(text: string, params?: unknown[]): Promise<number>;
}

class RunnerSql implements Sql {
  constructor(private readonly runner: QueryRunner) {}

  async rows<T>(text: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.runner.query(text, params, true);
    return result.records as T[];
  }

  async execute(text: string, params: unknown[] = []): Promise<number> {
    const result = await this.runner.query(text, params, true);
    return result.affected ?? 0;
  }
}

/**
 * The repositories' handle on the store. Outside a transaction each call leases a connection for
 * just that statement; `transaction` gives one connection for the whole unit of work.
 */
@Injectable()
export class Database implements Sql {
  constructor(private readonly dataSource: DataSource) {}

  private async withRunner<T>(fn: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      return await fn(runner);
    } finally {
      await runner.release();
    }
  }

  rows<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return this.withRunner((runner) => new RunnerSql(runner).rows<T>(text, params));
  }

  execute(text: string, params: unknown[] = []): Promise<number> {
    return this.withRunner((runner) => new RunnerSql(runner).execute(text, params));
  }

  /** All or nothing: a throw inside `fn` rolls every statement back. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.withRunner(async (runner) => {
      await runner.startTransaction();
      try {
        const result = await fn(new RunnerSql(runner));
        await runner.commitTransaction();
        return result;
      } catch (error) {
        await runner.rollbackTransaction();
        throw error;
      }
    });
  }
}
