import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, type EventRecord } from '@keyhaven/db';
import { EVENT_BUS, type EventBus } from '@keyhaven/bus';
import { deadLetterQueueOf, eventMessageSchema, eventRecordSchema } from './event-record.schema';
import { EventRepository } from './event.repository';

interface Waiting {
  readonly events: readonly EventRecord[];
  resolve(): void;
  reject(error: unknown): void;
}

/** SQLSTATE classes that say "this row can never be stored" (bad data), not "try again later". */
function isDataError(error: unknown): boolean {
  const holder = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = typeof holder.code === 'string' ? holder.code : holder.driverError?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The processor's side of the queue. Each message (an array of events) is checked; what can never be
 * stored goes to the dead-letter queue, the rest joins the current batch, and the message's promise —
 * its acknowledgement — settles only once the batch's transaction has committed. A batch is written
 * when it holds EVENTS_BATCH_SIZE events or EVENTS_FLUSH_INTERVAL_MS after its first one. While the
 * database refuses writes the batch is retried with backoff, its messages unacknowledged; on shutdown
 * they are rejected, so the broker delivers them again.
 */
@Injectable()
export class EventIngest implements OnApplicationShutdown {
  private readonly logger = new Logger('events-ingest');
  private waiting: Waiting[] = [];
  private waitingEvents = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly db: Database,
    private readonly events: EventRepository,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** Handles one queue message; resolves when its events are committed (or dead-lettered). */
  async accept(message: unknown): Promise<void> {
    const list = eventMessageSchema.safeParse(message);
    if (!list.success) {
      await this.deadLetter(message, 'not a list of events');
      return;
    }
    const valid: EventRecord[] = [];
    for (const item of list.data) {
      const parsed = eventRecordSchema.safeParse(item);
      if (parsed.success) valid.push(parsed.data);
      else await this.deadLetter(item, `invalid event: ${parsed.error.issues[0]?.path.join('.') ?? '?'}`);
    }
    if (valid.length === 0) return;
    if (this.stopping) throw new Error('events processor is stopping');
    await new Promise<void>((resolve, reject) => {
      this.waiting.push({ events: valid, resolve, reject });
      this.waitingEvents += valid.length;
      if (this.waitingEvents >= this.config.EVENTS_BATCH_SIZE) this.flushSoon(0);
      else this.flushSoon(this.config.EVENTS_FLUSH_INTERVAL_MS);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const left = this.waiting;
    this.waiting = [];
    this.waitingEvents = 0;
    for (const w of left) w.reject(new Error('events processor is stopping'));
    await this.flushing;
  }

  private flushSoon(delayMs: number): void {
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const batch = this.waiting;
      this.waiting = [];
      this.waitingEvents = 0;
      if (batch.length === 0) return;
      // One batch at a time: the next waits for this one, and keeps filling meanwhile.
      this.flushing = this.flushing.then(() => this.write(batch));
    }, delayMs);
  }

  private async write(batch: Waiting[]): Promise<void> {
    const events = batch.flatMap((w) => w.events);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store(events);
        for (const w of batch) w.resolve();
        return;
      } catch (error) {
        if (this.stopping) {
          for (const w of batch) w.reject(error);
          return;
        }
        this.logger.warn(
          `storing ${events.length} events failed (attempt ${attempt + 1}), retrying: ${describe(error)}`,
        );
        await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  /** The whole batch in one transaction; when a row is bad data, each event alone, the bad ones dead-lettered. */
  private async store(events: readonly EventRecord[]): Promise<void> {
    try {
      await this.db.transaction(() => this.events.storeBatch(events));
      return;
    } catch (error) {
      if (!isDataError(error)) throw error;
    }
    for (const event of events) {
      try {
        await this.db.transaction(() => this.events.storeBatch([event]));
      } catch (error) {
        if (!isDataError(error)) throw error;
        await this.deadLetter(event, `not storable: ${describe(error)}`);
        // Otherwise the relay would send it again when its lease runs out, for ever.
        await this.events.discardOutbox([event.id]);
      }
    }
  }

  private async deadLetter(payload: unknown, reason: string): Promise<void> {
    this.logger.warn(`event message dead-lettered: ${reason}`);
    await this.bus.enqueue(deadLetterQueueOf(this.config.EVENTS_QUEUE), {
      reason,
      payload,
      at: new Date().toISOString(),
    });
  }
}
