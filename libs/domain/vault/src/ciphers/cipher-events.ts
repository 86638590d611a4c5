import type { EventType } from '@keyhaven/contracts';
import type { EventInput } from '@keyhaven/db';

/**
 * An item's event as Bitwarden records it: an organization's item names the organization, a
 * personal item its owner. The acting user, device and address come from the request.
 */
export function cipherEvent(
  type: EventType,
  cipherId: string,
  organizationId: string | null,
  ownerId: string,
): EventInput {
  return organizationId ? { type, cipherId, organizationId } : { type, cipherId, userId: ownerId };
}
