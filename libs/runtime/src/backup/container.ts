import { createHash, type Hash } from 'node:crypto';

/**
 * The plaintext inside a backup's age encryption: a magic line, then records, each a one-line JSON header
 * followed by exactly `len` bytes of body. The last record is the manifest; its `sha256` covers every byte
 * before it, so a reader knows the file is whole only when it has checked that. (age already authenticates
 * every 64 KiB chunk and marks the last one, which catches tampering and truncation first; the manifest also
 * lets `restore --verify` compare what a database holds with what was backed up.)
 *
 * Blobs are never held whole: a blob record's header carries the length the store reported, its body is written
 * piece by piece as the store streams it and read back piece by piece (`chunks`), each piece passed on before the
 * next is read. The framing is the same as when bodies were buffered, so files written before and after read alike.
 * A piece handed out before the end is not yet known to be genuine: age has authenticated its chunk, but only the
 * manifest at the end proves nothing was cut off or reordered, so a restore undoes whatever it wrote if the end fails.
 */
export const MAGIC = 'KEYHAVEN-BACKUP 1\n';
export const FORMAT_VERSION = 1;
const MAX_HEADER_BYTES = 64 * 1024;
const RECORD_TYPES = new Set<unknown>(['schema', 'rows', 'blob', 'manifest']);

export type RecordHeader =
  | { readonly t: 'schema'; readonly len: number }
  | { readonly t: 'rows'; readonly table: string; readonly n: number; readonly len: number }
  | { readonly t: 'blob'; readonly key: string; readonly len: number }
  | { readonly t: 'manifest'; readonly len: number };

/** The first record: what a restore needs before the first row (the schema to build). */
export interface SchemaInfo {
  readonly createdAt: string;
  readonly source: 'postgres' | 'pglite';
  readonly migrations: string[];
}

export interface Manifest {
  readonly format: number;
  readonly createdAt: string;
  readonly source: 'postgres' | 'pglite';
  /** Migrations the database had, oldest first: a restore builds exactly this schema, loads, then migrates on. */
  readonly migrations: string[];
  readonly tables: { table: string; rows: number; checksum: string }[];
  readonly sequences: { name: string; value: string; called: boolean }[];
  readonly blobs: { key: string; size: number; sha256: string }[];
  /** Of every byte before the manifest record. */
  readonly sha256: string;
}

export class BackupFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupFormatError';
  }
}

/** Encodes records and keeps the running digest the manifest needs. */
export class ContainerWriter {
  private readonly digest: Hash = createHash('sha256');
  bytes = 0;

  start(): Buffer {
    return this.track(Buffer.from(MAGIC));
  }

  record(
    header:
      { readonly t: 'rows'; readonly table: string; readonly n: number } | { readonly t: 'blob'; readonly key: string },
    body: Buffer,
  ): Buffer {
    const full = { ...header, len: body.length };
    return this.track(Buffer.concat([Buffer.from(`${JSON.stringify(full)}\n`), body]));
  }

  /** The header of a blob record; exactly `len` bytes of body must follow, through `piece`. */
  blobStart(key: string, len: number): Buffer {
    return this.track(Buffer.from(`${JSON.stringify({ t: 'blob', key, len })}\n`));
  }

  /** Part of a record's body (a blob's, after blobStart). */
  piece(chunk: Buffer): Buffer {
    return this.track(chunk);
  }

  schema(info: SchemaInfo): Buffer {
    const body = Buffer.from(JSON.stringify(info));
    return this.track(Buffer.concat([Buffer.from(`${JSON.stringify({ t: 'schema', len: body.length })}\n`), body]));
  }

  /** The closing record; nothing may follow it. */
  manifest(manifest: Omit<Manifest, 'sha256'>): Buffer {
    const body = Buffer.from(JSON.stringify({ ...manifest, sha256: this.digest.digest('hex') }));
    return Buffer.concat([Buffer.from(`${JSON.stringify({ t: 'manifest', len: body.length })}\n`), body]);
  }

  private track(chunk: Buffer): Buffer {
    this.digest.update(chunk);
    this.bytes += chunk.length;
    return chunk;
  }
}

export type ContainerRecord =
  | { readonly header: Extract<RecordHeader, { t: 'schema' }>; readonly schema: SchemaInfo }
  /** `json`: the rows as one JSON array of objects, ready for json_populate_recordset. */
  | { readonly header: Extract<RecordHeader, { t: 'rows' }>; readonly json: string }
  /**
   * `chunks`: the body, piece by piece as it is decrypted; read it to its end before asking for the next record
   * (a body left unread is skipped, still checked against the manifest's digest).
   */
  | { readonly header: Extract<RecordHeader, { t: 'blob' }>; readonly chunks: AsyncIterable<Buffer> }
  | { readonly header: Extract<RecordHeader, { t: 'manifest' }>; readonly manifest: Manifest };

/** Parses the decrypted byte stream back into records, checking the framing and the manifest's digest. */
export async function* readContainer(source: AsyncIterable<Uint8Array>): AsyncGenerator<ContainerRecord> {
  const input = source[Symbol.asyncIterator]();
  let buffer: Buffer = Buffer.alloc(0);
  let ended = false;
  const digest = createHash('sha256');
  const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fill = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await input.next();
    if (next.done) {
      ended = true;
      return false;
    }
    buffer = buffer.length === 0 ? asBuffer(next.value) : Buffer.concat([buffer, next.value]);
    return true;
  };
  const take = async (n: number, what: string): Promise<Buffer> => {
    // Collected, then joined once: a record of many chunks is copied once, not once per chunk.
    const parts: Buffer[] = [buffer];
    let have = buffer.length;
    while (have < n) {
      const next = ended ? null : await input.next();
      if (!next || next.done) {
        ended = true;
        throw new BackupFormatError(`the backup ends in the middle of ${what} (truncated)`);
      }
      parts.push(asBuffer(next.value));
      have += next.value.length;
    }
    const all = parts.length === 1 ? buffer : Buffer.concat(parts, have);
    buffer = all.subarray(n);
    return all.subarray(0, n);
  };
  /** The next piece of a body with `left` bytes to go: what is buffered, else the next decrypted chunk. */
  const piece = async (left: number, what: string): Promise<Buffer> => {
    if (buffer.length === 0 && !(await fill())) {
      throw new BackupFormatError(`the backup ends in the middle of ${what} (truncated)`);
    }
    const out = buffer.subarray(0, Math.min(left, buffer.length));
    buffer = buffer.subarray(out.length);
    digest.update(out);
    return out;
  };
  const line = async (): Promise<string | null> => {
    for (;;) {
      const at = buffer.indexOf(0x0a);
      if (at >= 0) {
        const text = buffer.subarray(0, at).toString('utf8');
        buffer = buffer.subarray(at + 1);
        return text;
      }
      if (buffer.length > MAX_HEADER_BYTES) throw new BackupFormatError('a record header is too long: not a backup');
      if (!(await fill())) {
        if (buffer.length === 0) return null;
        throw new BackupFormatError('the backup ends in the middle of a record header (truncated)');
      }
    }
  };

  const magic = await take(MAGIC.length, 'its first line');
  if (magic.toString('utf8') !== MAGIC)
    throw new BackupFormatError('not a Keyhaven backup (no KEYHAVEN-BACKUP header)');
  digest.update(magic);
  for (;;) {
    const text = await line();
    if (text === null) throw new BackupFormatError('the backup has no manifest (truncated)');
    let header: RecordHeader;
    try {
      header = JSON.parse(text) as RecordHeader;
    } catch {
      throw new BackupFormatError('a record header is not valid: the backup is damaged');
    }
    if (!RECORD_TYPES.has((header as { t?: unknown }).t)) {
      throw new BackupFormatError('unknown record type: the backup is damaged or newer than this Keyhaven');
    }
    if (!Number.isSafeInteger(header.len) || header.len < 0)
      throw new BackupFormatError('a record length is not valid');
    if (header.t === 'blob') {
      digest.update(`${text}\n`);
      let left = header.len;
      const what = `blob ${header.key}`;
      async function* chunks(): AsyncGenerator<Buffer> {
        while (left > 0) {
          const out = await piece(left, what);
          left -= out.length;
          yield out;
        }
      }
      yield { header, chunks: chunks() };
      // Whatever the consumer left unread (it stopped early, or only wanted the next record).
      while (left > 0) left -= (await piece(left, what)).length;
      continue;
    }
    const body = await take(header.len, `a ${header.t} record`);
    if (header.t === 'manifest') {
      const manifest = JSON.parse(body.toString('utf8')) as Manifest;
      if (manifest.format !== FORMAT_VERSION)
        throw new BackupFormatError(`backup format ${manifest.format} is not supported`);
      if (manifest.sha256 !== digest.digest('hex')) {
        throw new BackupFormatError('the manifest checksum does not match the contents: the backup is damaged');
      }
      if (buffer.length > 0 || (await fill())) throw new BackupFormatError('data after the manifest');
      yield { header, manifest };
      return;
    }
    digest.update(Buffer.from(`${text}\n`));
    digest.update(body);
    if (header.t === 'schema') {
      yield { header, schema: JSON.parse(body.toString('utf8')) as SchemaInfo };
    } else {
      yield { header, json: body.toString('utf8') };
    }
  }
}

/** Reads an iterable to its end, for the checks made on the way (a blob verified, not stored). */
export async function drain(chunks: AsyncIterable<unknown>): Promise<void> {
  const it = chunks[Symbol.asyncIterator]();
  for (let next = await it.next(); next.done !== true; next = await it.next()) {
    // nothing to keep
  }
}

/** Size and SHA-256 of a blob's pieces as they pass (the manifest's per-blob entry). */
export function measure(chunks: AsyncIterable<Buffer>): {
  readonly pieces: AsyncGenerator<Buffer>;
  result(): { size: number; sha256: string };
} {
  const hash = createHash('sha256');
  let size = 0;
  let sha256: string | undefined;
  async function* pieces(): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
    sha256 = hash.digest('hex');
  }
  return {
    pieces: pieces(),
    result: () => {
      if (sha256 === undefined) throw new Error('the blob was not read to its end');
      return { size, sha256 };
    },
  };
}
