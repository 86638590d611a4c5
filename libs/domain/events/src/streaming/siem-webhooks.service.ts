import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { notFound } from '@keyhaven/contracts';
import { EventStream } from './event-stream';
import { SiemWebhookRepository, type SiemWebhook } from './siem-webhook.repository';

const httpUrl = z
  .string()
  .max(2048)
  .refine(
    (v) => {
      try {
        const url = new URL(v);
        return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
      } catch {
        return false;
      }
    },
    { message: 'must be an http(s) URL without credentials' },
  );

/** `PUT organizations/{id}/siem-webhook`: where to send the organization's events and the signing secret. */
export const siemWebhookRequestSchema = z.object({
  url: httpUrl,
  secret: z.string().min(16, 'must be at least 16 characters').max(256),
  enabled: z.boolean().default(true),
});
export type SiemWebhookRequest = z.infer<typeof siemWebhookRequestSchema>;

/** What an organization's admins see: the settings (never the secret) and how delivery goes. */
export function siemWebhookJson(webhook: SiemWebhook): Record<string, unknown> {
  return {
    organizationId: webhook.organizationId,
    url: webhook.url,
    enabled: webhook.enabled,
    secretSet: true,
    deliveredCount: webhook.deliveredCount,
    lastDeliveryDate: webhook.lastDeliveryAt?.toISOString() ?? null,
    failedAttempts: webhook.failedAttempts,
    lastFailureDate: webhook.lastFailureAt?.toISOString() ?? null,
    lastFailure: webhook.lastFailure,
    nextAttemptDate: webhook.nextAttemptAt?.toISOString() ?? null,
    revisionDate: webhook.revisionDate.toISOString(),
    object: 'siemWebhook',
  };
}

/**
 * An organization's SIEM webhook settings. Delivery itself is the WebhookDeliveryJob's, from the
 * stored events; the outbound address policy is enforced there on every attempt (a URL that
 * resolves to a private address fails visibly in `lastFailure`).
 */
@Injectable()
export class SiemWebhooksService {
  constructor(
    private readonly webhooks: SiemWebhookRepository,
    private readonly stream: EventStream,
  ) {}

  async get(organizationId: string): Promise<SiemWebhook> {
    const webhook = await this.webhooks.find(organizationId);
    if (!webhook) throw notFound('SIEM webhook');
    return webhook;
  }

  async save(organizationId: string, request: SiemWebhookRequest): Promise<SiemWebhook> {
    await this.webhooks.save(organizationId, request.url, request.secret, request.enabled, await this.stream.head());
    return this.get(organizationId);
  }

  async remove(organizationId: string): Promise<void> {
    if (!(await this.webhooks.remove(organizationId))) throw notFound('SIEM webhook');
  }
}
