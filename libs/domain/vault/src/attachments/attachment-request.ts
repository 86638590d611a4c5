import { z } from 'zod';
import { isWellFormedEncString } from '@keyhaven/contracts';
import type { AttachmentKeyChange } from './attachment.repository';
import { ATTACHMENT_ID } from './attachment';

const enc = z.string().max(10_000).refine(isWellFormedEncString, { message: 'must be a valid encrypted string' });

/** `POST ciphers/{id}/attachment/v2`. `fileSize` is the encrypted length the upload must match. */
export const attachmentCreateSchema = z.looseObject({
  key: enc.nullish(),
  fileName: enc,
  fileSize: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  adminRequest: z.boolean().nullish(),
  lastKnownRevisionDate: z.string().max(64).nullish(),
});

export type AttachmentCreateRequest = z.infer<typeof attachmentCreateSchema>;

const attachments2 = z.record(z.string().regex(ATTACHMENT_ID), z.looseObject({ fileName: enc, key: enc.nullish() }));
const legacyAttachments = z.record(z.string().regex(ATTACHMENT_ID), enc);

/**
 * The names and keys an item update or share carries for its attachments: `attachments2` when
 * present (2026 clients send it, with each key re-wrapped on a move into an organization), else the
 * legacy name-only map, which (as Bitwarden's server does) leaves those attachments without a key.
 * Malformed maps change nothing.
 */
export function attachmentKeyChanges(cipherId: string, request: Record<string, unknown>): AttachmentKeyChange[] {
  const modern = attachments2.safeParse(request['attachments2']);
  if (modern.success && request['attachments2'] !== undefined && request['attachments2'] !== null) {
    return Object.entries(modern.data).map(([id, a]) => ({ cipherId, id, fileName: a.fileName, key: a.key ?? null }));
  }
  const legacy = legacyAttachments.safeParse(request['attachments']);
  if (legacy.success && request['attachments'] !== undefined && request['attachments'] !== null) {
    return Object.entries(legacy.data).map(([id, fileName]) => ({ cipherId, id, fileName, key: null }));
  }
  return [];
}
