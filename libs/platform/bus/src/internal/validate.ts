import { errorMessage } from './timing';

// Both adapters validate identically, so a call that works in all-in-one mode also works against RabbitMQ.

/** AMQP short strings (routing keys, queue names) are at most 255 bytes. */
const MAX_NAME_BYTES = 255;

function assertName(kind: string, name: string): void {
  if (name.length === 0) throw new TypeError(`${kind} must not be empty`);
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) {
    throw new RangeError(`${kind} must be at most ${MAX_NAME_BYTES} bytes: ${name.slice(0, 40)}…`);
  }
}

export function assertTopic(topic: string): void {
  assertName('topic', topic);
  if (topic.split('.').some((w) => w === '*' || w === '#')) {
    throw new TypeError(`topic must not contain wildcards (they are for subscribe patterns): ${topic}`);
  }
}

export function assertPattern(pattern: string): void {
  assertName('pattern', pattern);
  // RabbitMQ would treat `push*` as a literal word, which is never what the caller meant.
  if (pattern.split('.').some((w) => w !== '*' && w !== '#' && (w.includes('*') || w.includes('#')))) {
    throw new TypeError(`wildcards must be whole words in pattern: ${pattern}`);
  }
}

export function assertQueueName(queue: string): void {
  assertName('queue name', queue);
  // The broker reserves `amq.` and refuses to declare such queues (403).
  if (queue.startsWith('amq.')) throw new TypeError(`queue name must not start with "amq.": ${queue}`);
}

export function assertPositiveInt(name: string, value: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be an integer between 1 and ${max}, got ${value}`);
  }
}

export function assertNonNegativeInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
}

/** Payloads cross the bus as JSON in both adapters (dates become strings, no shared references). */
export function toJson(payload: unknown): string {
  let json: unknown;
  try {
    json = JSON.stringify(payload);
  } catch (err) {
    throw new TypeError(`bus payloads must be JSON-serialisable: ${errorMessage(err)}`);
  }
  // JSON.stringify is typed as returning string, but returns undefined for undefined and functions.
  if (typeof json !== 'string')
    throw new TypeError('bus payloads must be JSON-serialisable (got undefined or a function)');
  return json;
}

export function fromJson(json: string): unknown {
  return JSON.parse(json);
}
