import { Decoder, Encoder } from '@msgpack/msgpack';

/**
 * ASP.NET Core SignalR's hub protocols as they travel over a WebSocket: the JSON handshake ended by the
 * record separator, then either JSON records (each ended by 0x1E) or MessagePack messages (each prefixed
 * by its length as a varint). Nothing here knows about sockets: bytes in, messages out, and back.
 */

/** Ends the handshake and every JSON record. */
export const RECORD_SEPARATOR = 0x1e;

/** The message types of the hub protocol (version 1). */
export const MessageType = {
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
} as const;

/** A decoded message from a client. Only the fields this server reads are typed. */
export interface HubMessage {
  readonly type: number;
  readonly target?: string | undefined;
  readonly arguments?: readonly unknown[] | undefined;
  readonly error?: string | null | undefined;
}

export interface HandshakeRequest {
  readonly protocol: string;
  readonly version: number;
}

/** The input is not what the protocol allows; the connection that sent it should be closed. */
export class FramingError extends Error {
  override readonly name = 'FramingError';
}

/** What one chunk of input held: whole messages, and the start of one still arriving. */
export interface Parsed<T> {
  readonly messages: T[];
  readonly rest: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return Buffer.concat([a, b]);
}

function parseJsonRecord(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown;
  } catch {
    throw new FramingError('a record is not JSON');
  }
}

/**
 * The handshake request: `{"protocol":"…","version":1}` then 0x1E. Returns null while the separator has not
 * arrived yet (at most `maxBytes` are waited for), and the bytes after it, which may already hold messages.
 */
export function parseHandshake(
  data: Uint8Array | string,
  maxBytes: number,
): { request: HandshakeRequest; rest: Uint8Array } | null {
  const bytes = toBytes(data);
  const end = bytes.indexOf(RECORD_SEPARATOR);
  if (end < 0) {
    if (bytes.length > maxBytes) throw new FramingError('handshake too large');
    return null;
  }
  if (end > maxBytes) throw new FramingError('handshake too large');
  const value = parseJsonRecord(bytes.subarray(0, end));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FramingError('handshake is not an object');
  }
  const { protocol, version } = value as Record<string, unknown>;
  if (typeof protocol !== 'string' || typeof version !== 'number' || !Number.isInteger(version)) {
    throw new FramingError('handshake needs protocol and version');
  }
  return { request: { protocol, version }, rest: bytes.subarray(end + 1) };
}

/** The server's answer as a client reads it (tests and benchmarks): null while incomplete. */
export function parseHandshakeResponse(data: Uint8Array | string): { error?: string; rest: Uint8Array } | null {
  const bytes = toBytes(data);
  const end = bytes.indexOf(RECORD_SEPARATOR);
  if (end < 0) return null;
  const value = parseJsonRecord(bytes.subarray(0, end));
  if (typeof value !== 'object' || value === null) throw new FramingError('handshake response is not an object');
  const error = (value as Record<string, unknown>)['error'];
  return { ...(typeof error === 'string' ? { error } : {}), rest: bytes.subarray(end + 1) };
}

/** `{}` + 0x1E accepts the handshake; `{"error":"…"}` + 0x1E refuses it. */
export function handshakeResponse(error?: string): Buffer {
  const body = error === undefined ? '{}' : JSON.stringify({ error });
  return Buffer.concat([Buffer.from(body, 'utf8'), Buffer.of(RECORD_SEPARATOR)]);
}

/** A length as SignalR writes it: 7 bits a byte, least significant group first, high bit = more follows. */
export function writeVarint(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new RangeError(`bad length ${value}`);
  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest > 0) byte |= 0x80;
    out.push(byte);
  } while (rest > 0);
  return Buffer.from(out);
}

/** Reads a varint at `offset`: null while incomplete; a FramingError past 5 bytes (SignalR's limit, 2^31-1). */
export function readVarint(bytes: Uint8Array, offset = 0): { value: number; size: number } | null {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const byte = bytes[offset + i];
    if (byte === undefined) return null;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (value > 0x7fffffff) throw new FramingError('message length out of range');
      return { value, size: i + 1 };
    }
  }
  throw new FramingError('message length out of range');
}

/** One hub protocol: how messages are cut from the stream, decoded, and written. */
export interface HubProtocol {
  /** As the client names it in the handshake. */
  readonly name: 'json' | 'messagepack';
  /** MessagePack goes in binary WebSocket frames, JSON in text frames. */
  readonly binary: boolean;
  /**
   * Decodes every whole message of `pending + data`. A message larger than `maxMessageBytes`, or bytes that
   * are not a message, throw FramingError; an incomplete tail comes back in `rest` for the next chunk.
   */
  parse(pending: Uint8Array, data: Uint8Array | string, maxMessageBytes: number): Parsed<HubMessage>;
  invocation(target: string, args: readonly unknown[]): Buffer;
  ping(): Buffer;
  close(error: string | null, allowReconnect: boolean): Buffer;
}

function hubMessageFromJson(value: unknown): HubMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FramingError('a message is not an object');
  }
  const record = value as Record<string, unknown>;
  const type = record['type'];
  if (typeof type !== 'number' || !Number.isInteger(type) || type < 1) throw new FramingError('a message has no type');
  const target = record['target'];
  const args = record['arguments'];
  const error = record['error'];
  return {
    type,
    target: typeof target === 'string' ? target : undefined,
    arguments: Array.isArray(args) ? (args as unknown[]) : undefined,
    error: typeof error === 'string' ? error : undefined,
  };
}

function jsonRecord(value: unknown): Buffer {
  return Buffer.concat([Buffer.from(JSON.stringify(value), 'utf8'), Buffer.of(RECORD_SEPARATOR)]);
}

export const jsonHubProtocol: HubProtocol = {
  name: 'json',
  binary: false,
  parse(pending, data, maxMessageBytes) {
    const bytes = concat(pending, toBytes(data));
    const messages: HubMessage[] = [];
    let start = 0;
    for (;;) {
      const end = bytes.indexOf(RECORD_SEPARATOR, start);
      if (end < 0) break;
      if (end - start > maxMessageBytes) throw new FramingError('message too large');
      messages.push(hubMessageFromJson(parseJsonRecord(bytes.subarray(start, end))));
      start = end + 1;
    }
    const rest = start === bytes.length ? EMPTY : bytes.subarray(start);
    if (rest.length > maxMessageBytes) throw new FramingError('message too large');
    return { messages, rest };
  },
  invocation(target, args) {
    return jsonRecord({ type: MessageType.Invocation, target, arguments: args });
  },
  ping() {
    return jsonRecord({ type: MessageType.Ping });
  },
  close(error, allowReconnect) {
    return jsonRecord({
      type: MessageType.Close,
      ...(error === null ? {} : { error }),
      ...(allowReconnect ? { allowReconnect: true } : {}),
    });
  },
};

// Dates go out as the timestamp extension (-1), which is what @msgpack/msgpack does by default.
const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder({ maxStrLength: 1 << 16, maxArrayLength: 1 << 10, maxMapLength: 1 << 10 });

function lengthPrefixed(message: unknown[]): Buffer {
  const body = encoder.encode(message);
  return Buffer.concat([writeVarint(body.length), body]);
}

function hubMessageFromMsgpack(value: unknown): HubMessage {
  if (!Array.isArray(value) || value.length === 0) throw new FramingError('a message is not an array');
  const items = value as unknown[];
  const type = items[0];
  if (typeof type !== 'number' || !Number.isInteger(type) || type < 1) throw new FramingError('a message has no type');
  if (type === MessageType.Invocation) {
    // [1, headers, invocationId, target, arguments, streamIds?]
    const target = items[3];
    const args = items[4];
    return {
      type,
      target: typeof target === 'string' ? target : undefined,
      arguments: Array.isArray(args) ? (args as unknown[]) : undefined,
    };
  }
  if (type === MessageType.Close) {
    const error = items[1];
    return { type, error: typeof error === 'string' ? error : null };
  }
  return { type };
}

export const messagePackHubProtocol: HubProtocol = {
  name: 'messagepack',
  binary: true,
  parse(pending, data, maxMessageBytes) {
    const bytes = concat(pending, toBytes(data));
    const messages: HubMessage[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      const length = readVarint(bytes, offset);
      if (length === null) break;
      if (length.value > maxMessageBytes) throw new FramingError('message too large');
      const start = offset + length.size;
      const end = start + length.value;
      if (end > bytes.length) break;
      let value: unknown;
      try {
        value = decoder.decode(bytes.subarray(start, end));
      } catch {
        throw new FramingError('a message is not MessagePack');
      }
      messages.push(hubMessageFromMsgpack(value));
      offset = end;
    }
    const rest = offset === bytes.length ? EMPTY : bytes.subarray(offset);
    if (rest.length > maxMessageBytes + 5) throw new FramingError('message too large');
    return { messages, rest };
  },
  invocation(target, args) {
    // [1, headers, invocationId (none: no completion expected), target, arguments]
    return lengthPrefixed([MessageType.Invocation, {}, null, target, args]);
  },
  ping() {
    return lengthPrefixed([MessageType.Ping]);
  },
  close(error, allowReconnect) {
    return lengthPrefixed([MessageType.Close, error, allowReconnect]);
  },
};

/** The protocols this server speaks, by their handshake names (version 1 of each). */
export function hubProtocolNamed(name: string): HubProtocol | undefined {
  if (name === 'json') return jsonHubProtocol;
  if (name === 'messagepack') return messagePackHubProtocol;
  return undefined;
}
