import { z } from 'zod';
import { badRequest, int32, isWellFormedEncString, isoDate, smallint } from '@keyhaven/contracts';
import { SendType } from './send';

const encString = (max: number) =>
  z.string().max(max).refine(isWellFormedEncString, { message: 'must be a valid encrypted string' });

/** Largest file a Send takes (Bitwarden's 500 MiB plus encryption overhead, as its server allows). */
export const MAX_SEND_FILE_BYTES = 501 * 1024 * 1024;

/**
 * `SendRequestModel` as the clients send it. `text`/`file` carry a stray `response: null` (a client
 * model artefact) which is dropped with every other unknown key. `emails` is a comma-joined string.
 */
export const sendRequestSchema = z.object({
  type: smallint(),
  fileLength: z.number().int().min(0).nullish(),
  name: encString(10_000),
  notes: encString(10_000).nullish(),
  key: encString(10_000),
  maxAccessCount: int32(1).nullish(),
  expirationDate: isoDate.nullish(),
  deletionDate: isoDate,
  text: z.object({ text: encString(100_000).nullish(), hidden: z.boolean().nullish() }).nullish(),
  file: z.object({ fileName: encString(10_000).nullish() }).nullish(),
  password: z.string().max(1000).nullish(),
  emails: z.string().max(2500).nullish(),
  disabled: z.boolean().nullish(),
  hideEmail: z.boolean().nullish(),
  authType: smallint().nullish(),
});
export type SendRequest = z.infer<typeof sendRequestSchema>;

const MINUTE_MS = 60_000;
const MAX_DELETION_MS = 31 * 24 * 3600 * 1000;

export interface SendDates {
  readonly deletionDate: Date;
  readonly expirationDate: Date | null;
}

/**
 * The date rules of Bitwarden's server: deletion within 31 days, expiration not after deletion;
 * on create both must lie at least a minute ahead ("already expired").
 */
export function validDates(request: SendRequest, creating: boolean, now = new Date()): SendDates {
  const deletionDate = new Date(request.deletionDate);
  const expirationDate = request.expirationDate ? new Date(request.expirationDate) : null;
  if (deletionDate.getTime() > now.getTime() + MAX_DELETION_MS)
    throw badRequest(
      'You cannot have a Send with a deletion date that far into the future. Adjust the Deletion Date to a value less than 31 days from now and try again.',
      { deletionDate: ['Must be within 31 days.'] },
    );
  if (creating && deletionDate.getTime() <= now.getTime() + MINUTE_MS)
    throw badRequest('You cannot create a Send that is already deleted. Adjust the deletion date and try again.', {
      deletionDate: ['Must be in the future.'],
    });
  if (expirationDate && creating && expirationDate.getTime() <= now.getTime() + MINUTE_MS)
    throw badRequest('You cannot create a Send that is already expired. Adjust the expiration date and try again.', {
      expirationDate: ['Must be in the future.'],
    });
  if (expirationDate && expirationDate > deletionDate)
    throw badRequest('The expiration date must not be after the deletion date.', {
      expirationDate: ['Must not be after the deletion date.'],
    });
  return { deletionDate, expirationDate };
}

/** Text or File; Item Sends (2) sit behind a flag Bitwarden's server keeps off. */
export function validType(type: number): SendType {
  if (type === SendType.Text || type === SendType.File) return type;
  throw badRequest('Invalid Send type.', { type: ['Must be 0 (text) or 1 (file).'] });
}

/** Lower-cased, trimmed, de-duplicated comma list, or null. */
export function normalizedEmails(emails: string | null | undefined): string | null {
  const list = [
    ...new Set(
      (emails ?? '')
        .split(',')
        .map((e) => e.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  return list.length > 0 ? list.join(',') : null;
}
