import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import { transactionHolder } from './transaction-holder';

/** Parameterised SQL ($1, $2 …), the same text on PostgreSQL and PGlite. */
export interface Sql {
  /** Rows of a SELECT or of a statement with RETURNING. */
  rows<T>(text: string, params?: unknown[]): Promise<T[]>;
  /** Number of rows an INSERT/UPDATE/DELETE touched. */
  execute(text: string, params?: unknown[]): Promise<number>;
}

/** The open unit of work of the current async context. */
interface UnitOfWork {
  readonly dataSource: DataSource;
  readonly runner: QueryRunner;
  /** Savepoints opened so far (names only need to be unique within the transaction). */
  savepoints: number;
  /** Set at commit/rollback: work that outlives its transaction must not reuse the connection. */
  finished: boolean;
}

const unitOfWork = new AsyncLocalStorage<UnitOfWork>();

async function runOn<T>(
  runner: QueryRunner,
  text: string,
  params: unknown[],
): Promise<{ records: T[]; affected: number }> {
  const result = await runner.query(text, params, true);
  return { records: result.records as T[], affected: result.affected ?? 0 };
}

/**
 * The repositories' handle on the store. Inside `transaction(...)` every call — from this service
 * or any other repository — runs on that transaction's connection, found through the async context,
 * so reads see the transaction's own uncommitted writes and nothing waits for a connection its own
 * request holds. Outside a transaction each call leases a connection for just that statement.
 */
@Injectable()
export class Database implements Sql {
  constructor(private readonly dataSource: DataSource) {}

  /** True while the caller runs inside an open transaction of this store. */
  inTransaction(): boolean {
    return this.current() !== undefined;
  }

  async rows<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.run<T>(text, params)).records;
  }

  async execute(text: string, params: unknown[] = []): Promise<number> {
    return (await this.run(text, params)).affected;
  }

  /**
   * All or nothing: a throw inside `fn` rolls every statement back. Called inside an open
   * transaction it becomes a savepoint, so an inner failure the caller catches undoes only the
   * inner work.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = this.current();
    return outer ? this.savepoint(outer, fn) : this.begin(fn);
  }

  private current(): UnitOfWork | undefined {
    const work = unitOfWork.getStore();
    return work && !work.finished && work.dataSource === this.dataSource ? work : undefined;
  }

  private async run<T>(text: string, params: unknown[]): Promise<{ records: T[]; affected: number }> {
    const work = this.current();
    if (work) return runOn<T>(work.runner, text, params);
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      return await runOn<T>(runner, text, params);
    } finally {
      await runner.release();
    }
  }

  private async begin<T>(fn: () => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const work: UnitOfWork = { dataSource: this.dataSource, runner, savepoints: 0, finished: false };
    try {
      await runner.startTransaction();
      try {
        const result = await transactionHolder.run(runner, () => unitOfWork.run(work, fn));
        work.finished = true;
        await runner.commitTransaction();
        return result;
      } catch (error) {
        work.finished = true;
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        throw error;
      }
    } finally {
      await runner.release();
    }
  }

  private async savepoint<T>(work: UnitOfWork, fn: () => Promise<T>): Promise<T> {
    const name = `keyhaven_sp_${++work.savepoints}`;
    await work.runner.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn();
      await work.runner.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await work.runner.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw error;
    }
  }
}
