import { Injectable } from '@nestjs/common';
import { badRequest } from '@keyhaven/contracts';
import { PasswordHasher } from '@keyhaven/domain-auth';
import { SendAuthType, SendType, passwordMarker, type Send } from './send';
import type { SendFields } from './send.repository';
import { normalizedEmails, validDates, type SendRequest } from './send-request';

/** Which protection a request asks for; old clients send no `authType`, so it is inferred as Bitwarden does. */
function requestedAuthType(request: SendRequest, existing: Send | null): number {
  if (request.authType !== null && request.authType !== undefined) return request.authType;
  if (normalizedEmails(request.emails)) return SendAuthType.Email;
  if (request.password?.trim()) return SendAuthType.Password;
  return existing ? existing.authType : SendAuthType.None;
}

/**
 * Turns a create or edit request into the stored fields. `authType` is authoritative (Bitwarden's
 * server semantics, so `bw send edit` without `--password` removes the password): Password with a
 * new client hash re-hashes it, Password without one keeps the stored hash, None clears it.
 * Email-verified Sends need a mailed one-time code flow this server does not offer: refused.
 */
@Injectable()
export class SendFieldsFactory {
  constructor(private readonly hasher: PasswordHasher) {}

  async from(request: SendRequest, type: number, existing: Send | null): Promise<SendFields> {
    const { deletionDate, expirationDate } = validDates(request, existing === null);
    const authType = requestedAuthType(request, existing);
    let passwordHash: string | null = null;
    if (authType === SendAuthType.Email) {
      throw badRequest('Sends with email verification are not supported.', { emails: ['Not supported.'] });
    } else if (authType === SendAuthType.Password) {
      const given = request.password?.trim() ?? '';
      const keep = existing?.passwordHash ?? null;
      // A client that echoes the `password` it read back keeps the password rather than re-hashing the echo.
      if (given && !(keep && given === passwordMarker(keep))) passwordHash = await this.hasher.hash(given);
      else if (keep) passwordHash = keep;
      else throw badRequest('A password is required.', { password: ['The field is required.'] });
    } else if (authType !== SendAuthType.None) {
      throw badRequest('Invalid authentication type.', { authType: ['Must be 1 (password) or 2 (none).'] });
    }
    return {
      authType,
      name: request.name,
      notes: request.notes ?? null,
      key: request.key,
      data: type === SendType.File ? this.fileData(request, existing) : this.textData(request),
      passwordHash,
      emails: null,
      maxAccessCount: request.maxAccessCount ?? null,
      disabled: request.disabled ?? false,
      hideEmail: request.hideEmail ?? false,
      expirationDate,
      deletionDate,
    };
  }

  private textData(request: SendRequest): { text: string | null; hidden: boolean } {
    return { text: request.text?.text ?? null, hidden: request.text?.hidden ?? false };
  }

  private fileData(request: SendRequest, existing: Send | null): { fileName: string } {
    const fileName = request.file?.fileName ?? existing?.file?.fileName;
    if (!fileName) throw badRequest('A file name is required.', { 'file.fileName': ['The field is required.'] });
    return { fileName };
  }
}
