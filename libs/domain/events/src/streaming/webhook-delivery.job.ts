import { createHmac, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { JobScheduler, type ScheduledJob } from '@keyhaven/db';
import { GuardedFetcher, OutboundError } from '@keyhaven/outbound';
import { EventStream, retryDelayMs, type StreamEvent } from './event-stream';
import { SiemWebhookRepository, type SiemWebhook } from './siem-webhook.repository';

/** The header a receiver checks: `sha256=` and the hex HMAC-SHA256 of the raw body under the secret. */
export const SIGNATURE_HEADER = 'X-Keyhaven-Signature';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Batches one webhook sends per round at most, so one busy organization does not hold the others up. */
const BATCHES_PER_ROUND = 10;

/**
 * Streams each organization's stored events to its webhook: batched JSON, signed, in order, at
 * least once (a receiver de-duplicates by event `id`). One instance delivers for a given
 * organization at a time (a PostgreSQL advisory lock per webhook, through the JobScheduler: released the
 * moment a holder dies, so a killed instance's batch is taken over at the next round, and needing no
 * Redis), and its cursor moves only after the receiver answered 2xx; a failure is recorded for the
 * admins and retried with exponential backoff.
 */
@Injectable()
export class WebhookDeliveryJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('siem-webhooks');
  private job: ScheduledJob | undefined;

  constructor(
    private readonly webhooks: SiemWebhookRepository,
    private readonly stream: EventStream,
    private readonly fetcher: GuardedFetcher,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    private readonly scheduler: JobScheduler,
  ) {}

  onApplicationBootstrap(): void {
    // One instance per period sends (the JobScheduler's advisory lock).
    this.job = this.scheduler.schedule({
      name: 'siem-webhooks',
      periodMs: this.config.SIEM_STREAM_INTERVAL_MS,
      run: () => this.tick(),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }

  /** One round over the webhooks that are due. Never throws (a timer calls it). */
  async tick(now = new Date()): Promise<void> {
    try {
      for (const organizationId of await this.webhooks.due(now)) await this.deliverFor(organizationId);
    } catch (error) {
      this.logger.error(`webhook round failed: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
  }

  private async deliverFor(organizationId: string): Promise<void> {
    await this.scheduler.exclusively(`siem-webhook:${organizationId}`, () => this.sendBatches(organizationId));
  }

  private async sendBatches(organizationId: string): Promise<void> {
    for (let i = 0; i < BATCHES_PER_ROUND; i++) {
      // Re-read under the lock: another instance may have moved the cursor or failed meanwhile.
      const webhook = await this.webhooks.find(organizationId);
      if (!webhook?.enabled || (webhook.nextAttemptAt && webhook.nextAttemptAt > new Date())) return;
      const batch = await this.stream.after(webhook.cursor, organizationId, this.config.SIEM_BATCH_SIZE);
      if (batch.events.length === 0) return;
      const failure = await this.post(webhook, batch.events);
      if (failure !== null) {
        const delay = retryDelayMs(
          webhook.failedAttempts + 1,
          this.config.SIEM_RETRY_BASE_MS,
          this.config.SIEM_RETRY_MAX_MS,
        );
        await this.webhooks.failed(organizationId, failure, delay);
        return;
      }
      if (!(await this.webhooks.delivered(organizationId, webhook.cursor, batch.next, batch.events.length))) return;
      if (batch.events.length < this.config.SIEM_BATCH_SIZE) return;
    }
  }

  /** Null when the receiver took the batch; else a reason an admin can act on (no secret in it). */
  private async post(webhook: SiemWebhook, events: StreamEvent[]): Promise<string | null> {
    const body = JSON.stringify({ organizationId: webhook.organizationId, events, object: 'eventBatch' });
    try {
      const response = await this.fetcher.fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signBody(webhook.secret, body),
          'X-Keyhaven-Delivery': randomUUID(),
        },
        body,
        // A receiver that redirects is misconfigured; following it would re-send events elsewhere.
        maxRedirects: 0,
        maxBytes: 64 * 1024,
      });
      if (response.status >= 200 && response.status < 300) return null;
      return `the receiver answered HTTP ${response.status}`;
    } catch (error) {
      if (error instanceof OutboundError) return error.message;
      return 'the delivery failed';
    }
  }
}
