import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { BusHandler, BusMessage } from '../event-bus.port';
import { settleWithin } from '../internal/timing';
import { fromJson } from '../internal/validate';
import type { BusLogger } from '../logger';
import { BROADCAST_PREFETCH, BROADCAST_QUEUE_OPTIONS, closeChannelQuietly, workQueueOptions } from './amqp';

export interface AttachmentHost {
  readonly logger: BusLogger;
  readonly drainTimeoutMs: number;
  /** This attachment's channel died (or the broker cancelled its consumer) while the connection may be alive. */
  attachmentLost(attachment: Attachment): void;
}

type Outcome = 'ack' | 'requeue' | 'drop';

/**
 * A live `subscribe` or `consume`: owns one channel (so a channel error or a per-consumer prefetch stays
 * local) and can be re-attached to a new connection after a reconnect.
 */
export abstract class Attachment {
  /** Managed by the bus: a pending re-attach while the connection stays up. */
  retryTimer: NodeJS.Timeout | undefined;
  retryAttempt = 0;
  private channel: Channel | null = null;
  private consumerTag: string | null = null;
  private closing: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  protected constructor(
    protected readonly host: AttachmentHost,
    private readonly handler: BusHandler,
    private readonly prefetch: number,
  ) {}

  get attached(): boolean {
    return this.channel !== null;
  }

  /** A method, not a getter, so TypeScript doesn't narrow it across awaits. */
  isClosed(): boolean {
    return this.closing !== undefined;
  }

  /** Log fields naming this attachment; never the payload. */
  abstract get context(): Record<string, string>;

  /** Declares (and binds) the queue on `channel` and returns its name. */
  protected abstract declare(channel: Channel): Promise<string>;

  protected abstract topicOf(msg: ConsumeMessage): string;

  protected abstract onHandlerError(err: unknown, msg: ConsumeMessage): Outcome;

  async attach(model: ChannelModel): Promise<void> {
    if (this.isClosed()) return;
    const previous = this.channel;
    this.channel = null;
    if (previous) await closeChannelQuietly(previous);
    const channel = await model.createChannel();
    channel.on('error', (err: Error) => {
      this.host.logger.warn({ err, ...this.context }, 'bus: consumer channel error');
    });
    channel.on('close', () => {
      this.channelClosed(channel);
    });
    if (this.isClosed()) {
      // close() ran while the channel was opening and saw nothing to close.
      await closeChannelQuietly(channel);
      return;
    }
    // From here close() sees the channel, so it cancels or closes whatever this attach gets to.
    this.channel = channel;
    try {
      const queue = await this.declare(channel);
      // Per-consumer (global=false): quorum queues refuse global QoS by closing the whole connection.
      await channel.prefetch(this.prefetch, false);
      const { consumerTag } = await channel.consume(queue, (msg) => {
        this.onDelivery(channel, msg);
      });
      this.consumerTag = consumerTag;
    } catch (err) {
      if (this.channel === channel) this.channel = null;
      await closeChannelQuietly(channel);
      throw err;
    }
  }

  /**
   * Stops deliveries and lets running handlers finish (bounded by drainTimeoutMs), then closes the channel
   * unless the caller is about to close the whole connection; unacked work goes back to the queue.
   */
  close(closeChannel = true): Promise<void> {
    this.closing ??= this.shutdown(closeChannel);
    return this.closing;
  }

  private async shutdown(closeChannel: boolean): Promise<void> {
    const channel = this.channel;
    const consumerTag = this.consumerTag;
    if (channel && consumerTag) {
      let cancelling: Promise<unknown> | undefined;
      try {
        cancelling = channel.cancel(consumerTag);
      } catch {
        // The channel is already gone; nothing more will be delivered on it.
      }
      // Bounded: on a half-open connection the broker never answers.
      if (cancelling) await settleWithin([cancelling], this.host.drainTimeoutMs);
    }
    if (!(await settleWithin(this.inFlight, this.host.drainTimeoutMs))) {
      this.host.logger.warn(
        { ...this.context },
        'bus: handlers still running at close; their messages will be requeued',
      );
    }
    this.channel = null;
    this.consumerTag = null;
    if (channel && closeChannel) await closeChannelQuietly(channel, this.host.drainTimeoutMs);
  }

  private channelClosed(channel: Channel): void {
    if (this.channel !== channel) return; // replaced, or closed on purpose
    this.channel = null;
    this.consumerTag = null;
    if (this.isClosed()) return;
    // Channels close just before their connection reports 'close'; let that land first.
    queueMicrotask(() => {
      this.host.attachmentLost(this);
    });
  }

  private onDelivery(channel: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled the consumer (e.g. its queue was deleted): rebuild on a fresh channel.
      this.host.logger.warn({ ...this.context }, 'bus: consumer cancelled by the broker; re-attaching');
      void closeChannelQuietly(channel); // never rejects; its 'close' event schedules the re-attach
      return;
    }
    const task: Promise<void> = this.process(channel, msg).finally(() => {
      this.inFlight.delete(task);
    });
    this.inFlight.add(task);
  }

  /** Never rejects. */
  private async process(channel: Channel, msg: ConsumeMessage): Promise<void> {
    let message: BusMessage;
    try {
      const appId: unknown = msg.properties.appId;
      message = {
        topic: this.topicOf(msg),
        payload: fromJson(msg.content.toString('utf8')),
        originId: typeof appId === 'string' ? appId : undefined,
      };
    } catch (err) {
      this.host.logger.error({ err, ...this.context }, 'bus: dropping a message that is not valid JSON');
      this.settle(channel, msg, 'drop');
      return;
    }
    let outcome: Outcome = 'ack';
    try {
      await this.handler(message);
    } catch (err) {
      outcome = this.onHandlerError(err, msg);
    }
    this.settle(channel, msg, outcome);
  }

  private settle(channel: Channel, msg: ConsumeMessage, outcome: Outcome): void {
    // On a replaced channel the broker has already requeued the message; acking there would be an error.
    if (this.channel !== channel) return;
    try {
      if (outcome === 'ack') channel.ack(msg);
      else channel.nack(msg, false, outcome === 'requeue');
    } catch (err) {
      this.host.logger.warn({ err, ...this.context }, 'bus: could not settle a message; the broker will redeliver it');
    }
  }
}

/** A `subscribe`: its own exclusive queue bound to the topic exchange. Failures are logged, not retried. */
export class BroadcastAttachment extends Attachment {
  constructor(
    host: AttachmentHost,
    handler: BusHandler,
    private readonly exchange: string,
    private readonly pattern: string,
  ) {
    super(host, handler, BROADCAST_PREFETCH);
  }

  get context(): Record<string, string> {
    return { pattern: this.pattern };
  }

  protected async declare(channel: Channel): Promise<string> {
    const { queue } = await channel.assertQueue('', BROADCAST_QUEUE_OPTIONS);
    await channel.bindQueue(queue, this.exchange, this.pattern);
    return queue;
  }

  protected topicOf(msg: ConsumeMessage): string {
    return msg.fields.routingKey;
  }

  protected onHandlerError(err: unknown, msg: ConsumeMessage): Outcome {
    this.host.logger.error({ err, pattern: this.pattern, topic: msg.fields.routingKey }, 'bus: subscriber failed');
    return 'ack';
  }
}

/** A `consume` on a quorum work queue: ack on success, requeue on failure until the delivery limit. */
export class WorkAttachment extends Attachment {
  constructor(
    host: AttachmentHost,
    handler: BusHandler,
    private readonly queue: string,
    private readonly deliveryLimit: number,
    prefetch: number,
  ) {
    super(host, handler, prefetch);
  }

  get context(): Record<string, string> {
    return { queue: this.queue };
  }

  protected async declare(channel: Channel): Promise<string> {
    await channel.assertQueue(this.queue, workQueueOptions(this.deliveryLimit));
    return this.queue;
  }

  protected topicOf(): string {
    return this.queue;
  }

  protected onHandlerError(err: unknown, msg: ConsumeMessage): Outcome {
    // Quorum queues count earlier returns in x-delivery-count (absent on the first delivery).
    const previous: unknown = msg.properties.headers?.['x-delivery-count'];
    const deliveries = (typeof previous === 'number' ? previous : 0) + 1;
    if (deliveries > this.deliveryLimit) {
      // The broker would drop it on this requeue anyway; dropping explicitly makes the outcome certain.
      this.host.logger.error(
        { err, queue: this.queue, deliveries },
        'bus: work message dropped after reaching the delivery limit',
      );
      return 'drop';
    }
    this.host.logger.warn({ err, queue: this.queue, deliveries }, 'bus: work handler failed; redelivering');
    return 'requeue';
  }
}
