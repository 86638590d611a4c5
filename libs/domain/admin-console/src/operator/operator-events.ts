import { Injectable } from '@nestjs/common';
import type { EventType } from '@keyhaven/contracts';
import { EventRecorder, type EventInput } from '@keyhaven/db';

/**
 * Operator (system administrator) actions have no Bitwarden event number: Bitwarden's portal keeps
 * no audit log of them. Keyhaven records them in the event log under its own numbers, in a range
 * Bitwarden does not use (9000+), next to the Bitwarden events the same change causes (a member
 * revoked by an offboarding is also `OrganizationUser_Revoked`, which the organization's own event
 * log shows). The acting admin is no user: the event carries no acting user, only the admin's IP.
 */
export const OperatorEventType = {
  User_Disabled: 9000,
  User_Enabled: 9001,
  User_Offboarded: 9002,
  User_Deauthorized: 9003,
  User_TwoFactorRemoved: 9004,
  User_Deleted: 9005,
  User_Reinvited: 9006,
  User_Invited: 9007,
  Organization_Deleted: 9010,
  Admin_LoggedIn: 9020,
  Admin_TestMailSent: 9021,
} as const;
export type OperatorEventType = (typeof OperatorEventType)[keyof typeof OperatorEventType];

/** Bitwarden's number for a member revoked from an organization. */
const ORGANIZATION_USER_REVOKED = 1511;

export interface OperatorEvent extends Omit<EventInput, 'type' | 'actingUserId'> {
  readonly type: OperatorEventType | typeof ORGANIZATION_USER_REVOKED;
}

/** Writes operator events in the caller's unit of work (they commit or roll back with the change). */
@Injectable()
export class OperatorEvents {
  constructor(private readonly recorder: EventRecorder) {}

  static readonly memberRevoked: typeof ORGANIZATION_USER_REVOKED = ORGANIZATION_USER_REVOKED;

  async record(events: OperatorEvent | readonly OperatorEvent[]): Promise<void> {
    const list: readonly OperatorEvent[] = Array.isArray(events) ? events : [events as OperatorEvent];
    // The numbers are outside the EventType enum on purpose (see above); the event table stores any.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- operator numbers, see above
    const inputs: EventInput[] = list.map((e) => ({ ...e, type: e.type as unknown as EventType, actingUserId: null }));
    await this.recorder.record(inputs);
  }
}
