import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, JobScheduler, type EventRecord, type ScheduledJob } from '@keyhaven/db';
import { EVENT_BUS, type EventBus } from '@keyhaven/bus';

/**
 * How long a sent row stays leased before it is sent again: longer than the processor normally
 * takes to store it (and delete the row), short enough that a message lost on the way is retried.
 */
const LEASE_SECONDS = 120;

/**
 * Moves recorded events from `event_outbox` to the durable queue. Every instance may run it: a round
 * leases the oldest unleased rows with FOR UPDATE SKIP LOCKED, so two relays never take the same
 * row, and sends them as one message once the bus has confirmed it. The rows stay until the
 * processor has stored their events (it deletes them in the same transaction), so neither a broker
 * nor a processor outage loses one; a row whose lease runs out is sent again and the processor's
 * insert by event id makes the repeat harmless. While the bus is down, rounds fail and rows wait.
 * Scheduled on every instance (the JobScheduler's `everyInstance`): the rows are shared out, not the job.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private job: ScheduledJob | undefined;
  private stopped = false;

  constructor(
    private readonly db: Database,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    private readonly scheduler: JobScheduler,
  ) {}

  onApplicationBootstrap(): void {
    this.job = this.scheduler.schedule({
      name: 'events-relay',
      periodMs: this.config.EVENTS_RELAY_INTERVAL_MS,
      everyInstance: true,
      run: () => this.drain(),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.job?.stop();
  }

  /** Rounds until the outbox has nothing unleased left; the number of events sent. */
  async drain(): Promise<number> {
    let sent = 0;
    while (!this.stopped) {
      const count = await this.relayOnce();
      sent += count;
      if (count < this.config.EVENTS_BATCH_SIZE) break;
    }
    return sent;
  }

  /** One round: lease a batch, send it, or give the lease back when the bus refuses. */
  async relayOnce(): Promise<number> {
    const leased = await this.db.rows<{ seq: string; payload: EventRecord }>(
      `UPDATE event_outbox SET claimed_until = now() + make_interval(secs => $2)
       WHERE seq IN (SELECT seq FROM event_outbox WHERE claimed_until IS NULL OR claimed_until < now()
                     ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING seq, payload`,
      [this.config.EVENTS_BATCH_SIZE, LEASE_SECONDS],
    );
    if (leased.length === 0) return 0;
    leased.sort((a, b) => Number(a.seq) - Number(b.seq));
    try {
      await this.bus.enqueue(
        this.config.EVENTS_QUEUE,
        leased.map((row) => row.payload),
      );
    } catch (error) {
      await this.db
        .execute(`UPDATE event_outbox SET claimed_until = NULL WHERE seq = ANY($1::bigint[])`, [
          leased.map((row) => row.seq),
        ])
        .catch(() => undefined);
      throw error;
    }
    return leased.length;
  }
}
