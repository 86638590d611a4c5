import { Duplex } from 'node:stream';
import type { Channel, ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { settleWithin, toError } from '../internal/timing';

/**
 * Bound on a close handshake. A half-open connection (peer gone, no FIN/RST seen yet) never answers one,
 * and amqplib's close() would then wait until the heartbeat notices — minutes, by default.
 */
export const CLOSE_TIMEOUT_MS = 2_000;

/** Broadcast queues hold little; this bounds a slow subscriber's unacked backlog. */
export const BROADCAST_PREFETCH = 100;

/**
 * Work queues are quorum queues: replicated, durable, and with a broker-enforced delivery limit so a
 * poison message can't loop forever. These arguments are part of the queue's identity on the broker.
 */
export function workQueueOptions(deliveryLimit: number): Options.AssertQueue {
  return { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': deliveryLimit } };
}

/** Server-named, exclusive and auto-deleted: each subscription's queue dies with it or its connection. */
export const BROADCAST_QUEUE_OPTIONS: Options.AssertQueue = { exclusive: true, autoDelete: true, durable: false };

// Channel-level errors that retrying on a fresh channel cannot fix: access refused, not found,
// resource locked, precondition failed (e.g. a queue declared with other arguments).
const PERMANENT_CODES = new Set([403, 404, 405, 406]);

export function isPermanentAmqpError(err: unknown): boolean {
  if (err instanceof TypeError || err instanceof RangeError) return true;
  if (typeof err !== 'object' || err === null || !('code' in err)) return false;
  return typeof err.code === 'number' && PERMANENT_CODES.has(err.code);
}

/** host:port only, so credentials in the URL never reach an error message or log. */
export function describeTarget(url: string): string {
  try {
    return new URL(url).host || 'rabbitmq';
  } catch {
    return '(unparseable url)';
  }
}

/** Never rejects, never waits longer than `timeoutMs`; a channel that doesn't answer dies with its connection. */
export async function closeChannelQuietly(channel: Channel, timeoutMs = CLOSE_TIMEOUT_MS): Promise<void> {
  let closing: Promise<void>;
  try {
    closing = channel.close();
  } catch {
    return; // already closed: amqplib throws synchronously
  }
  // A rejection means already closed, or its connection is gone: either way it is closed now.
  await settleWithin([closing], timeoutMs);
}

/** Never rejects, never waits longer than `timeoutMs`: after that the socket is destroyed. */
export async function closeModelQuietly(model: ChannelModel, timeoutMs = CLOSE_TIMEOUT_MS): Promise<void> {
  let closing: Promise<void>;
  try {
    closing = model.close();
  } catch {
    return;
  }
  if (!(await settleWithin([closing], timeoutMs))) destroySocket(model);
}

/**
 * amqplib has no API to abandon a connection, so this reaches its socket (`connection.stream`). Destroying it
 * *with an error* makes amqplib tear down as for a network failure: channels closed, heartbeat timer cleared.
 */
function destroySocket(model: ChannelModel): void {
  const stream: unknown = (model.connection as unknown as { stream?: unknown }).stream;
  if (stream instanceof Duplex) stream.destroy(new Error('AMQP connection did not close in time'));
}

/**
 * Adds `heartbeat` to the URL unless it sets one: RabbitMQ's default (60 s) leaves a half-open connection
 * undetected for minutes. amqplib uses the lower of the client's and the server's value.
 */
export function withHeartbeat(url: string, seconds: number): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url; // amqplib reports the bad URL
  }
  if (parsed.searchParams.has('heartbeat')) return url;
  parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

/** Runs `fn` on a short-lived channel, so a channel error it causes can't take a long-lived channel down. */
export async function withChannel<T>(model: ChannelModel, fn: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = await model.createChannel();
  channel.on('error', () => {
    // The failed operation rejects with this error; the listener only stops amqplib from throwing it.
  });
  try {
    return await fn(channel);
  } finally {
    await closeChannelQuietly(channel);
  }
}

export type PublishTarget = { readonly exchange: string; readonly routingKey: string } | { readonly queue: string };

/** Publishes and resolves once the broker confirms (rejects on nack or when the channel closes first). */
export function confirmPublish(
  channel: ConfirmChannel,
  target: PublishTarget,
  body: Buffer,
  options: Options.Publish,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err: unknown): void => {
      if (err === null || err === undefined) resolve();
      else reject(toError(err));
    };
    try {
      // The return value only reports a full write buffer; the confirm is what we wait for.
      if ('queue' in target) channel.sendToQueue(target.queue, body, options, done);
      else channel.publish(target.exchange, target.routingKey, body, options, done);
    } catch (err) {
      // amqplib throws synchronously on a channel that is already closed.
      reject(toError(err));
    }
  });
}
