import { z } from 'zod';

// Stored files: the blob store (S3, or files under DATA_DIR) and the attachments and Sends kept in it.

export const storageShape = {
  S3_ENDPOINT: z.string().optional(),
  S3_BUCKET: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Largest attachment (encrypted bytes, as the client declares it); longer uploads are refused while they stream. */
  ATTACHMENTS_MAX_FILE_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(525336576),
  /** Attachment storage per user (their personal items), in GiB (fractions allowed); 0 turns personal attachments off. */
  ATTACHMENTS_USER_MAX_STORAGE_GB: z.coerce.number().min(0).max(1048576).default(10240),
  /** Attachment storage per organization, in GiB (fractions allowed); 0 turns organization attachments off. */
  ATTACHMENTS_ORG_MAX_STORAGE_GB: z.coerce.number().min(0).max(1048576).default(10240),
  /** An attachment whose file has not arrived this long after it was created is removed (row and blob). */
  ATTACHMENTS_PENDING_UPLOAD_TTL_SECONDS: z.coerce.number().int().min(1).default(3600),
  /** How often one instance removes abandoned uploads and the blobs of deleted attachments. */
  ATTACHMENTS_CLEANUP_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(300),
  /** How often one instance deletes Sends past their deletion date (Bitwarden's DeleteSendsJob: 5 minutes). */
  SEND_DELETION_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86400).default(300),
};

export function s3Complete(
  value: { S3_ENDPOINT?: string | undefined; S3_BUCKET?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (value.S3_BUCKET === undefined && value.S3_ENDPOINT !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is required when S3_ENDPOINT is set' });
  }
}
