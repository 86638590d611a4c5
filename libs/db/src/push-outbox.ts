import type { DataSource } from 'typeorm';

/** Rows relayed per transaction: a backlog drains in steps, each holding its rows' locks briefly. */
const RELAY_BATCH = 100;

/**
 * Pushes the bus refused, in PostgreSQL until it takes them again (the PUSH_OUTBOX port of @keyhaven/bus).
 * Written on the pool directly, outside any request's transaction: the push is stored when the publish has
 * already failed, after the write that caused it committed. Every instance relays (rows are shared out with
 * FOR UPDATE SKIP LOCKED); a push is deleted once the bus took it, so at worst one is sent twice, which
 * clients take as one more sync hint.
 */
export class PushOutbox {
  constructor(private readonly dataSource: DataSource) {}

  async store(message: unknown): Promise<void> {
    await this.dataSource.query('INSERT INTO push_outbox (payload) VALUES ($1::jsonb)', [JSON.stringify(message)]);
  }

  /** Publishes waiting pushes in order until one fails or a batch is done; answers how many went out. */
  async relay(publish: (payload: unknown) => Promise<void>): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<{ seq: string; payload: unknown }[]>(
        'SELECT seq, payload FROM push_outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED',
        [RELAY_BATCH],
      );
      let sent = 0;
      for (const row of rows) {
        try {
          await publish(row.payload);
        } catch {
          break; // still down: the rest waits for the next round; what went out is deleted below
        }
        await manager.query('DELETE FROM push_outbox WHERE seq = $1', [row.seq]);
        sent++;
      }
      return sent;
    });
  }
}
