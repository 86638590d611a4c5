import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { badRequest } from '@keyhaven/contracts';

/**
 * Multipart bodies (attachment and Send file uploads) are parsed as streams: the file part reaches the
 * handler as a Readable while it arrives, so no upload is ever held whole in memory. Fastify's body
 * limit does not apply to them; each upload passes its own cap to `multipartFile`.
 */
export const MULTIPART_LIMITS = {
  fieldNameSize: 100,
  fieldSize: 64 * 1024,
  fields: 16,
  files: 1,
  headerPairs: 64,
  parts: 17,
} as const;

export async function registerMultipart(fastify: FastifyInstance): Promise<void> {
  await fastify.register(multipart, { limits: MULTIPART_LIMITS, throwFileSizeLimit: true });
}

export interface MultipartUpload {
  /** The file part's bytes, streamed. Consume or destroy it. */
  readonly stream: Readable;
  /** Text fields sent before the file part (e.g. `key`). */
  readonly fields: Readonly<Record<string, string>>;
  /** True once the part passed maxBytes (the stream then ended early). */
  truncated(): boolean;
}

/**
 * The first file part of a multipart request, which must be named `part`. The multipart file name is
 * ignored on purpose: npm `form-data` (the CLI's) cuts it after its last "/", and encrypted names have
 * slashes. At most maxBytes are read; a longer part ends early and `truncated()` says so.
 */
export async function multipartFile(request: FastifyRequest, part: string, maxBytes: number): Promise<MultipartUpload> {
  if (!request.isMultipart()) throw badRequest('Invalid content.');
  const file = await request.file({ limits: { ...MULTIPART_LIMITS, fileSize: maxBytes } });
  if (!file) throw badRequest('No file was sent.', { [part]: ['The file is required.'] });
  if (file.fieldname !== part) {
    file.file.resume();
    throw badRequest(`The file must be sent as "${part}".`, { [part]: ['The file is required.'] });
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(file.fields)) {
    if (value && !Array.isArray(value) && value.type === 'field' && typeof value.value === 'string') {
      fields[name] = value.value;
    }
  }
  return { stream: file.file, fields, truncated: () => file.file.truncated };
}
