import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, badRequest, isWellFormedEncString, notFound } from '@keyhaven/contracts';
import { AuthRequestsService, deviceTypeName, type AuthRequest } from '@keyhaven/domain-auth';
import type { Membership } from '../membership';

const wrappedUserKey = z
  .string()
  .max(10_000)
  .refine((v) => isWellFormedEncString(v) && /^[346]\./.test(v), { message: 'must be an RSA-encrypted key' });

export const adminApprovalSchema = z.object({
  requestApproved: z.boolean(),
  encryptedUserKey: wrappedUserKey.nullish(),
});

export const bulkAdminApprovalSchema = z
  .array(z.object({ id: z.string().max(100), key: wrappedUserKey.nullish(), approved: z.boolean() }))
  .max(1000);

export const bulkDenySchema = z.object({ ids: z.array(z.string().max(100)).max(1000) });

type PendingRequest = AuthRequest & { organizationUserId: string; email: string };

export function pendingOrgAuthRequestJson(r: PendingRequest): Record<string, unknown> {
  return {
    id: r.id,
    userId: r.userId,
    organizationUserId: r.organizationUserId,
    email: r.email,
    publicKey: r.publicKey,
    requestDeviceIdentifier: r.requestDeviceIdentifier,
    requestDeviceType: deviceTypeName(r.requestDeviceType),
    requestDeviceTypeValue: r.requestDeviceType,
    requestIpAddress: r.requestIpAddress,
    requestCountryName: null,
    creationDate: r.creationDate.toISOString(),
    object: 'pending-org-auth-request',
  };
}

/**
 * Device approvals (trusted device encryption): members who signed in on a new device without
 * a way to decrypt ask the organization; an admin with account-recovery rights approves by wrapping
 * the member's user key (recovered from their account-recovery enrolment, in the admin's client)
 * to the request's public key, or denies. Requests live in the auth domain; this decides who sees
 * and answers which.
 */
@Injectable()
export class DeviceApprovalsService {
  constructor(
    private readonly db: Database,
    private readonly events: EventRecorder,
    private readonly authRequests: AuthRequestsService,
  ) {}

  list(actor: Membership): Promise<PendingRequest[]> {
    return this.authRequests.pendingForOrganization(actor.organizationId);
  }

  async answer(actor: Membership, id: string, body: z.infer<typeof adminApprovalSchema>): Promise<void> {
    const [request] = await this.authRequests.pendingForOrganization(actor.organizationId, [id]);
    if (!request) throw notFound('Auth request');
    if (body.requestApproved && !body.encryptedUserKey) throw badRequest('encryptedUserKey: The field is required.');
    await this.answerAll(actor, [{ request, approved: body.requestApproved, key: body.encryptedUserKey ?? null }]);
  }

  /** Many at once; ids that are not pending for this organization are skipped, as the clients expect. */
  async answerMany(actor: Membership, items: z.infer<typeof bulkAdminApprovalSchema>): Promise<void> {
    const pending = await this.authRequests.pendingForOrganization(
      actor.organizationId,
      items.map((i) => i.id),
    );
    const byId = new Map(pending.map((r) => [r.id, r]));
    const answers = items.flatMap((i) => {
      const request = byId.get(i.id.toLowerCase());
      if (!request || (i.approved && !i.key)) return [];
      return [{ request, approved: i.approved, key: i.key ?? null }];
    });
    await this.answerAll(actor, answers);
  }

  async denyMany(actor: Membership, ids: readonly string[]): Promise<void> {
    const pending = await this.authRequests.pendingForOrganization(actor.organizationId, ids);
    await this.answerAll(
      actor,
      pending.map((request) => ({ request, approved: false, key: null })),
    );
  }

  private async answerAll(
    actor: Membership,
    answers: readonly { request: PendingRequest; approved: boolean; key: string | null }[],
  ): Promise<void> {
    const answered = await this.db.transaction(async () => {
      const done: PendingRequest[] = [];
      for (const { request, approved, key } of answers) {
        if (!(await this.authRequests.answerAsAdmin(request, approved, key))) continue;
        done.push(request);
        await this.events.record({
          type: approved
            ? EventType.OrganizationUser_ApprovedAuthRequest
            : EventType.OrganizationUser_RejectedAuthRequest,
          organizationId: actor.organizationId,
          organizationUserId: request.organizationUserId,
        });
      }
      return done;
    });
    for (const request of answered) this.authRequests.announceAdminAnswer(request);
  }
}
