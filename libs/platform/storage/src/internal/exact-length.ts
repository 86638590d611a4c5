import { Transform, type TransformCallback } from 'node:stream';
import { BlobSizeMismatchError } from '../blob-errors';

/** Passes bytes through and fails the stream as soon as it is clear the total won't equal the declared size. */
export class ExactLength extends Transform {
  /** Set when the check failed, so callers can report it even if a consumer wraps the stream error. */
  mismatch: BlobSizeMismatchError | undefined;
  private seen = 0;

  constructor(
    private readonly key: string,
    private readonly expected: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.expected) callback(this.fail(-1));
    else callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.seen === this.expected ? null : this.fail(this.seen));
  }

  private fail(actual: number): BlobSizeMismatchError {
    this.mismatch = new BlobSizeMismatchError(this.key, this.expected, actual);
    return this.mismatch;
  }
}

export function assertSize(key: string, size: number | undefined): void {
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
    throw new RangeError(`blob ${JSON.stringify(key)}: size must be a non-negative integer, got ${size}`);
  }
}
