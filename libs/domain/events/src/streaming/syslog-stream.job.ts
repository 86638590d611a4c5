import { readFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, JobScheduler, type ScheduledJob } from '@keyhaven/db';
import { EventStream, retryDelayMs, type StreamCursor, type StreamEvent } from './event-stream';
import { frame, syslogMessage } from './syslog-format';

const CURSOR = 'syslog';
const BATCHES_PER_ROUND = 20;

interface CursorRow {
  cursor_xid: string;
  cursor_seq: string;
  failed_attempts: number;
  next_attempt_at: Date | null;
}

/**
 * Every stored event, of every organization and user, to the operator's syslog (`SYSLOG_URL`) as
 * RFC 5424 over TCP or TLS with octet-counting framing. One instance sends (Lock port lease); the
 * cursor lives in `event_stream_cursor` and moves only after a batch was written to the socket and
 * flushed, so a syslog outage delays events and never drops them (at least once).
 */
@Injectable()
export class SyslogStreamJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('syslog-stream');
  private job: ScheduledJob | undefined;
  private readonly hostname: string;

  constructor(
    private readonly db: Database,
    private readonly stream: EventStream,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    private readonly scheduler: JobScheduler,
  ) {
    this.hostname = new URL(config.DOMAIN).hostname;
  }

  onApplicationBootstrap(): void {
    if (!this.config.SYSLOG_URL) return;
    // One instance per period sends (the JobScheduler's advisory lock).
    this.job = this.scheduler.schedule({
      name: 'siem-syslog',
      periodMs: this.config.SIEM_STREAM_INTERVAL_MS,
      run: () => this.tick(),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }

  /** One round: sends what is stored since the cursor. Never throws (a timer calls it). */
  async tick(): Promise<void> {
    const url = this.config.SYSLOG_URL;
    if (!url) return;
    try {
      // One sender at a time (a PostgreSQL advisory lock, gone the moment a holder dies; no Redis needed).
      await this.scheduler.exclusively('siem-syslog:send', () => this.sendBacklog(new URL(url)));
    } catch (error) {
      this.logger.error(`syslog round failed: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
  }

  private async sendBacklog(url: URL): Promise<void> {
    for (let i = 0; i < BATCHES_PER_ROUND; i++) {
      const state = await this.cursor();
      if (state.next_attempt_at && new Date(state.next_attempt_at) > new Date()) return;
      const from: StreamCursor = { xid: state.cursor_xid, seq: state.cursor_seq };
      const batch = await this.stream.after(from, null, this.config.SIEM_BATCH_SIZE);
      if (batch.events.length === 0) return;
      try {
        await this.write(url, batch.events);
      } catch (error) {
        const reason = error instanceof Error ? error.message : 'write failed';
        const delay = retryDelayMs(
          state.failed_attempts + 1,
          this.config.SIEM_RETRY_BASE_MS,
          this.config.SIEM_RETRY_MAX_MS,
        );
        await this.db.execute(
          `UPDATE event_stream_cursor SET failed_attempts = failed_attempts + 1, last_failure_at = now(),
                  last_failure = $2, next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
            WHERE name = $1`,
          [CURSOR, reason.slice(0, 500), delay],
        );
        this.logger.warn(`syslog delivery failed, retrying in ${delay} ms: ${reason}`);
        return;
      }
      await this.db.execute(
        `UPDATE event_stream_cursor SET cursor_xid = $2::xid8, cursor_seq = $3::bigint, failed_attempts = 0,
                next_attempt_at = NULL, delivered_count = delivered_count + $4, last_delivery_at = now()
          WHERE name = $1`,
        [CURSOR, batch.next.xid, batch.next.seq, batch.events.length],
      );
      if (batch.events.length < this.config.SIEM_BATCH_SIZE) return;
    }
  }

  /** The syslog cursor, created at the stream's head the first time (events stored from then on). */
  private async cursor(): Promise<CursorRow> {
    const read = async (): Promise<CursorRow | undefined> =>
      (
        await this.db.rows<CursorRow>(
          `SELECT cursor_xid::text AS cursor_xid, cursor_seq::text AS cursor_seq, failed_attempts, next_attempt_at
             FROM event_stream_cursor WHERE name = $1`,
          [CURSOR],
        )
      )[0];
    const existing = await read();
    if (existing) return existing;
    const head = await this.stream.head();
    await this.db.execute(
      `INSERT INTO event_stream_cursor (name, cursor_xid, cursor_seq) VALUES ($1, $2::xid8, 0)
       ON CONFLICT (name) DO NOTHING`,
      [CURSOR, head.xid],
    );
    const created = await read();
    if (!created) throw new Error('syslog cursor missing');
    return created;
  }

  /** One connection per batch: all frames written, resolved once flushed to the socket. */
  private write(url: URL, events: StreamEvent[]): Promise<void> {
    const payload = Buffer.concat(events.map((e) => frame(syslogMessage(e, this.hostname))));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (url.protocol === 'tls:' ? 6514 : 514));
    const timeoutMs = this.config.OUTBOUND_TIMEOUT_MS;
    return new Promise<void>((resolve, reject) => {
      let socket: Socket;
      const fail = (error: Error): void => {
        socket.destroy();
        reject(error);
      };
      const send = (): void => {
        socket.end(payload, () => {
          socket.destroy();
          resolve();
        });
      };
      if (url.protocol === 'tls:') {
        const caFile = this.config.SYSLOG_TLS_CA_FILE;
        socket = connectTls({ host, port, servername: host, ...(caFile ? { ca: readFileSync(caFile) } : {}) }, send);
      } else {
        socket = connectTcp({ host, port }, send);
      }
      socket.setTimeout(timeoutMs, () => {
        fail(new Error(`syslog ${host}:${port} timed out`));
      });
      socket.on('error', (error) => {
        fail(new Error(`syslog ${host}:${port}: ${error.message}`));
      });
    });
  }
}
