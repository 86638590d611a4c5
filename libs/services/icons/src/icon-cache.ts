import type { Readable } from 'node:stream';
import type { BlobStore } from '@keyhaven/storage';
import { type Cache, isCacheUnavailable } from '@keyhaven/cache';

/** A lookup's outcome: the icon, or null for "this site has none" (until expiresAt). */
export interface CachedIcon {
  readonly png: Buffer | null;
  readonly expiresAt: number;
}

export interface IconCacheTtls {
  readonly hitMs: number;
  readonly missMs: number;
}

/** Redis keeps a hot copy for at most this long; the BlobStore keeps the entry for its whole TTL. */
const HOT_TTL_MS = 24 * 3600 * 1000;
const MAX_BLOB_BYTES = 1024 * 1024;
const VERSION = 1;

interface HotEntry {
  readonly p: string | null;
  readonly e: number;
}

/**
 * Icons and misses in the BlobStore (`icons/<host>`, shared by every instance, survives restarts),
 * with the cache port (Redis) in front so a hit costs one cache read. A blob is one version byte,
 * the expiry (ms since epoch, 8 bytes) and the PNG (empty for a miss).
 */
export class IconCache {
  constructor(
    private readonly blobs: BlobStore,
    private readonly cache: Cache,
    private readonly ttls: IconCacheTtls,
  ) {}

  async get(host: string, now = Date.now()): Promise<CachedIcon | null> {
    const hot = await this.cache.get<HotEntry>(hotKey(host)).catch(withoutHotLayer);
    if (hot && hot.e > now) return { png: hot.p === null ? null : Buffer.from(hot.p, 'base64'), expiresAt: hot.e };
    const stream = await this.blobs.get(blobKey(host));
    if (!stream) return null;
    const entry = decode(await readAll(stream));
    if (!entry || entry.expiresAt <= now) return null;
    await this.warm(host, entry, now);
    return entry;
  }

  async put(host: string, png: Buffer | null, now = Date.now()): Promise<CachedIcon> {
    const entry = { png, expiresAt: now + (png ? this.ttls.hitMs : this.ttls.missMs) };
    await this.blobs.put(blobKey(host), encode(entry));
    await this.warm(host, entry, now);
    return entry;
  }

  private async warm(host: string, entry: CachedIcon, now: number): Promise<void> {
    const hot: HotEntry = { p: entry.png ? entry.png.toString('base64') : null, e: entry.expiresAt };
    await this.cache
      .set(hotKey(host), hot, Math.max(1000, Math.min(HOT_TTL_MS, entry.expiresAt - now)))
      .catch(withoutHotLayer);
  }
}

/** The hot layer is only a copy of the blob store: while Redis is down, icons are read from the blobs alone. */
function withoutHotLayer(error: unknown): undefined {
  if (isCacheUnavailable(error)) return undefined;
  throw error;
}

function hotKey(host: string): string {
  return `icons:v${VERSION}:${host}`;
}

/** Host names are valid key segments as they are; IPv6 literals (tests only) lose their colons. */
function blobKey(host: string): string {
  return `icons/${host.replace(/:/g, '_')}`;
}

function encode(entry: CachedIcon): Buffer {
  const header = Buffer.alloc(9);
  header.writeUInt8(VERSION, 0);
  header.writeBigUInt64BE(BigInt(entry.expiresAt), 1);
  return entry.png ? Buffer.concat([header, entry.png]) : header;
}

function decode(data: Buffer | null): CachedIcon | null {
  if (!data || data.length < 9 || data.readUInt8(0) !== VERSION) return null;
  const expiresAt = Number(data.readBigUInt64BE(1));
  return { png: data.length > 9 ? Buffer.from(data.subarray(9)) : null, expiresAt };
}

async function readAll(stream: Readable): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_BLOB_BYTES) {
      stream.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
