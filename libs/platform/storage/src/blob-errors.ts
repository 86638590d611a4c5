/** put() got a different number of bytes than the declared size; nothing was stored. */
export class BlobSizeMismatchError extends Error {
  constructor(key: string, expected: number, actual: number) {
    super(`blob ${JSON.stringify(key)}: declared ${expected} bytes, got ${actual === -1 ? 'more' : actual}`);
    this.name = 'BlobSizeMismatchError';
  }
}

/** put() of a stream of unknown size exceeded what the adapter is willing to buffer. */
export class BlobTooLargeError extends Error {
  constructor(key: string, maxBytes: number) {
    super(`blob ${JSON.stringify(key)} exceeds ${maxBytes} bytes; pass its size to stream it instead`);
    this.name = 'BlobTooLargeError';
  }
}
