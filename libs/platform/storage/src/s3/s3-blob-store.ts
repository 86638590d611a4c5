import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { pipeline, Readable } from 'node:stream';
import { BlobSizeMismatchError } from '../blob-errors';
import { assertValidBlobKey } from '../blob-key';
import type { BlobInfo, BlobStore } from '../blob-store.port';
import { assertSize, ExactLength } from '../internal/exact-length';
import { readCapped } from '../internal/read-capped';
import { type StorageLogger, silentStorageLogger } from '../logger';

export interface S3BlobStoreOptions {
  readonly bucket: string;
  /** Default `us-east-1` (what most S3-compatible servers expect). */
  readonly region?: string;
  /** For S3-compatible servers (MinIO, R2, …); omit for AWS. */
  readonly endpoint?: string;
  /** Give both or neither; neither means the SDK's default credential chain. */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** `bucket` in the path instead of the host name; most self-hosted servers need it. */
  readonly forcePathStyle?: boolean;
  /** Largest stream put() buffers when no size is given (lib-storage isn't installed for multipart). Default 64 MiB. */
  readonly maxBufferedPutBytes?: number;
  /** Keys per ListObjectsV2/DeleteObjects round trip in deletePrefix (1–1000). Default 1000. */
  readonly deletePageSize?: number;
  readonly logger?: StorageLogger;
}

export const DEFAULT_MAX_BUFFERED_PUT_BYTES = 64 * 1024 * 1024;

function isS3Error(sdk: typeof S3Sdk, err: unknown, ...names: string[]): boolean {
  return err instanceof sdk.S3ServiceException && names.includes(err.name);
}

/** The SDK module and the client made with it. */
interface Loaded {
  readonly sdk: typeof S3Sdk;
  readonly client: S3Client;
}

/**
 * Blobs as objects in one bucket, keyed exactly by the blob key. The AWS SDK is loaded when a store is made,
 * not when this module is imported: processes that keep blobs on local disk never load it.
 */
export class S3BlobStore implements BlobStore {
  private readonly loaded: Promise<Loaded>;
  private readonly bucket: string;
  private readonly maxBufferedPutBytes: number;
  private readonly deletePageSize: number;
  private readonly logger: StorageLogger;

  constructor(options: S3BlobStoreOptions) {
    const { accessKeyId, secretAccessKey } = options;
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      throw new Error('S3BlobStore: give both accessKeyId and secretAccessKey, or neither');
    }
    const pageSize = options.deletePageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new RangeError(`deletePageSize must be an integer in 1..1000, got ${pageSize}`);
    }
    this.logger = options.logger ?? silentStorageLogger;
    const config: S3ClientConfig = {
      region: options.region ?? 'us-east-1',
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? false,
      credentials:
        accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey } : undefined,
      // The SDK's default (checksums on every request, streamed bodies sent aws-chunked) breaks many
      // S3-compatible servers; send checksums only where S3 requires them (e.g. DeleteObjects).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Without a logger the SDK writes some warnings straight to the console.
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: (...content: unknown[]) => {
          this.logger.warn({ sdk: content }, 'S3 client warning');
        },
        error: (...content: unknown[]) => {
          this.logger.error({ sdk: content }, 'S3 client error');
        },
      },
    };
    this.loaded = import('@aws-sdk/client-s3').then((sdk) => ({ sdk, client: new sdk.S3Client(config) }));
    // Failures surface where the client is used (ping at start-up); not as an unhandled rejection.
    this.loaded.catch(() => undefined);
    this.bucket = options.bucket;
    this.maxBufferedPutBytes = options.maxBufferedPutBytes ?? DEFAULT_MAX_BUFFERED_PUT_BYTES;
    this.deletePageSize = pageSize;
  }

  async put(key: string, body: Buffer | Readable, size?: number): Promise<void> {
    assertValidBlobKey(key);
    assertSize(key, size);
    if (Buffer.isBuffer(body)) {
      if (size !== undefined && size !== body.length) throw new BlobSizeMismatchError(key, size, body.length);
      await this.putObject(key, body, body.length);
    } else if (size === undefined) {
      // PutObject needs a length up front; without multipart upload the only option is to buffer.
      const buffered = await readCapped(key, body, this.maxBufferedPutBytes);
      await this.putObject(key, buffered, buffered.length);
    } else {
      const checked = new ExactLength(key, size);
      const abort = new AbortController();
      let streamError: unknown;
      // The HTTP request doesn't notice a failed body stream and would wait for the missing bytes forever.
      pipeline(body, checked, (err) => {
        if (!err) return;
        streamError = err;
        abort.abort();
      });
      try {
        await this.putObject(key, checked, size, abort.signal);
      } catch (err) {
        const cause = streamError ?? err;
        checked.destroy(); // a request that failed early (e.g. no bucket) leaves the source paused, not consumed
        // Report why the body failed (size mismatch, source error) rather than the SDK's abort error.
        throw cause;
      }
    }
  }

  async get(key: string): Promise<Readable | null> {
    assertValidBlobKey(key);
    const { sdk, client } = await this.loaded;
    try {
      const { Body } = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!(Body instanceof Readable)) throw new Error(`S3 GetObject for ${key} returned no stream`);
      return Body;
    } catch (err) {
      if (isS3Error(sdk, err, 'NoSuchKey')) return null;
      throw err;
    }
  }

  async stat(key: string): Promise<BlobInfo | null> {
    assertValidBlobKey(key);
    const { sdk, client } = await this.loaded;
    try {
      const head = await client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      // HEAD responses have no body, so a missing key surfaces as a bare 404 `NotFound`.
      if (isS3Error(sdk, err, 'NotFound', 'NoSuchKey')) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidBlobKey(key);
    const { sdk, client } = await this.loaded;
    await client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async deletePrefix(prefix: string): Promise<void> {
    assertValidBlobKey(prefix);
    const { sdk, client } = await this.loaded;
    let continuationToken: string | undefined;
    do {
      const page = await client.send(
        new sdk.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: `${prefix}/`,
          MaxKeys: this.deletePageSize,
          ContinuationToken: continuationToken,
        }),
      );
      const objects = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (objects.length > 0) {
        const result = await client.send(
          new sdk.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }),
        );
        const errors = result.Errors ?? [];
        const [firstError] = errors;
        if (firstError !== undefined) {
          this.logger.error({ prefix, errors: errors.slice(0, 10) }, 'S3 DeleteObjects failed for some keys');
          throw new Error(`could not delete ${errors.length} blobs under ${prefix}/: ${firstError.Code ?? 'unknown'}`);
        }
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  /** HeadBucket: reachable, credentials accepted, bucket exists. */
  async ping(): Promise<void> {
    const { sdk, client } = await this.loaded;
    await client.send(new sdk.HeadBucketCommand({ Bucket: this.bucket }));
  }

  async close(): Promise<void> {
    const loaded = await this.loaded.catch(() => undefined);
    loaded?.client.destroy();
  }

  private async putObject(key: string, body: Buffer | Readable, length: number, signal?: AbortSignal): Promise<void> {
    const { sdk, client } = await this.loaded;
    await client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: length }), {
      abortSignal: signal,
    });
  }
}
