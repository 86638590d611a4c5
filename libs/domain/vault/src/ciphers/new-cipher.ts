import { randomUUID } from 'node:crypto';
import { cipherData, type CipherRequest } from './cipher-request';
import type { NewCipher } from './cipher.repository';

/** The stored form of a client's request: server fields split off, the rest kept as opaque data. */
export function toNewCipher(request: CipherRequest, folderId: string | null, id: string = randomUUID()): NewCipher {
  return {
    id,
    type: request.type,
    data: cipherData(request),
    key: request.key ?? null,
    reprompt: request.reprompt ?? 0,
    folderId,
    favorite: request.favorite ?? false,
    archivedDate: request.archivedDate ? new Date(request.archivedDate) : null,
  };
}
