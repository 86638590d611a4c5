import type { Readable } from 'node:stream';
import { BlobTooLargeError } from '../blob-errors';

/** Buffers a stream fully, giving up (and destroying it) once it passes maxBytes. */
export async function readCapped(key: string, body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buf.length;
    if (total > maxBytes) {
      body.destroy();
      throw new BlobTooLargeError(key, maxBytes);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}
