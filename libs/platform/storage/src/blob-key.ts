import { InvalidBlobKeyError } from './blob-store.port';

/** S3's limit, applied everywhere so a key valid on disk is valid in a bucket too. */
export const MAX_BLOB_KEY_LENGTH = 1024;
/** Common filesystem NAME_MAX. */
export const MAX_BLOB_KEY_SEGMENT_LENGTH = 255;

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * True for `seg/seg/...` with segments of `[A-Za-z0-9._-]`, none `.` or `..`. This alone guarantees a
 * key can't escape the local root: no absolute paths, traversal, empty segments or backslashes.
 */
export function isValidBlobKey(key: string): boolean {
  if (key.length === 0 || key.length > MAX_BLOB_KEY_LENGTH) return false;
  return key
    .split('/')
    .every(
      (segment) =>
        segment !== '.' && segment !== '..' && segment.length <= MAX_BLOB_KEY_SEGMENT_LENGTH && SEGMENT.test(segment),
    );
}

/** Throws InvalidBlobKeyError unless isValidBlobKey(key). Prefixes follow the same rules. */
export function assertValidBlobKey(key: string): void {
  if (!isValidBlobKey(key)) throw new InvalidBlobKeyError(key);
}
