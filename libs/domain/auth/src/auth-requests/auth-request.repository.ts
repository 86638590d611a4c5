import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

export interface AuthRequest {
  readonly id: string;
  readonly userId: string;
  readonly type: number;
  readonly requestDeviceIdentifier: string;
  readonly requestDeviceType: number;
  readonly requestIpAddress: string | null;
  readonly accessCode: string;
  readonly publicKey: string;
  readonly key: string | null;
  readonly masterPasswordHash: string | null;
  readonly approved: boolean | null;
  readonly responseDeviceId: string | null;
  readonly creationDate: Date;
  readonly responseDate: Date | null;
  readonly authenticationDate: Date | null;
}

interface AuthRequestRow {
  id: string;
  user_id: string;
  type: number;
  request_device_identifier: string;
  request_device_type: number;
  request_ip_address: string | null;
  access_code: string;
  public_key: string;
  key: string | null;
  master_password_hash: string | null;
  approved: boolean | null;
  response_device_id: string | null;
  creation_date: Date;
  response_date: Date | null;
  authentication_date: Date | null;
}

const date = (value: Date | null): Date | null => (value === null ? null : new Date(value));

const toAuthRequest = (r: AuthRequestRow): AuthRequest => ({
  id: r.id,
  userId: r.user_id,
  type: r.type,
  requestDeviceIdentifier: r.request_device_identifier,
  requestDeviceType: r.request_device_type,
  requestIpAddress: r.request_ip_address,
  accessCode: r.access_code,
  publicKey: r.public_key,
  key: r.key,
  masterPasswordHash: r.master_password_hash,
  approved: r.approved,
  responseDeviceId: r.response_device_id,
  creationDate: new Date(r.creation_date),
  responseDate: date(r.response_date),
  authenticationDate: date(r.authentication_date),
});

export type NewAuthRequest = Pick<
  AuthRequest,
  | 'id'
  | 'userId'
  | 'type'
  | 'requestDeviceIdentifier'
  | 'requestDeviceType'
  | 'requestIpAddress'
  | 'accessCode'
  | 'publicKey'
  | 'creationDate'
>;

/** The `auth_request` rows (login with device). */
@Injectable()
export class AuthRequestRepository {
  constructor(private readonly db: Database) {}

  /** `expiredBefore`: creation dates of expired device requests; admin requests (type 2) live `adminExpiredBefore`. */
  async insert(request: NewAuthRequest, expiredBefore: Date, adminExpiredBefore: Date): Promise<void> {
    // Expired requests of this user go as new ones arrive; nothing else reads them.
    await this.db.execute(
      `DELETE FROM auth_request WHERE user_id = $1
         AND ((type <> 2 AND creation_date < $2) OR (type = 2 AND creation_date < $3))`,
      [request.userId, expiredBefore, adminExpiredBefore],
    );
    await this.db.execute(
      `INSERT INTO auth_request (id, user_id, type, request_device_identifier, request_device_type,
         request_ip_address, access_code, public_key, creation_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        request.id,
        request.userId,
        request.type,
        request.requestDeviceIdentifier,
        request.requestDeviceType,
        request.requestIpAddress,
        request.accessCode,
        request.publicKey,
        request.creationDate,
      ],
    );
  }

  async findById(id: string): Promise<AuthRequest | null> {
    const rows = await this.db.rows<AuthRequestRow>('SELECT * FROM auth_request WHERE id = $1', [id]);
    return rows[0] ? toAuthRequest(rows[0]) : null;
  }

  /** The user's unanswered requests created after `since`, newest first. */
  async pendingForUser(userId: string, since: Date): Promise<AuthRequest[]> {
    const rows = await this.db.rows<AuthRequestRow>(
      `SELECT * FROM auth_request WHERE user_id = $1 AND approved IS NULL AND creation_date >= $2
       ORDER BY creation_date DESC`,
      [userId, since],
    );
    return rows.map(toAuthRequest);
  }

  /** Records the answer once: false when the request was answered meanwhile. */
  async answer(
    id: string,
    approved: boolean,
    key: string | null,
    masterPasswordHash: string | null,
    responseDeviceId: string | null,
    at: Date,
  ): Promise<boolean> {
    const updated = await this.db.execute(
      `UPDATE auth_request SET approved = $2, key = $3, master_password_hash = $4, response_device_id = $5,
         response_date = $6 WHERE id = $1 AND approved IS NULL`,
      [id, approved, key, masterPasswordHash, responseDeviceId, at],
    );
    return updated === 1;
  }

  /**
   * Pending admin-approval requests (type 2, unanswered, created after `since`) of the users enrolled
   * in the organization's account recovery, with their membership and email, newest first.
   */
  async pendingAdminRequests(
    organizationId: string,
    since: Date,
    ids: readonly string[] | null = null,
  ): Promise<(AuthRequest & { organizationUserId: string; email: string })[]> {
    const rows = await this.db.rows<AuthRequestRow & { organization_user_id: string; email: string }>(
      `SELECT a.*, m.id AS organization_user_id, u.email FROM auth_request a
       JOIN organization_user m ON m.user_id = a.user_id AND m.organization_id = $1
       JOIN app_user u ON u.id = a.user_id
       WHERE a.type = 2 AND a.approved IS NULL AND a.creation_date >= $2
         AND m.status >= 0 AND m.reset_password_key IS NOT NULL
         AND ($3::uuid[] IS NULL OR a.id = ANY($3::uuid[]))
       ORDER BY a.creation_date DESC`,
      [organizationId, since, ids === null ? null : [...ids]],
    );
    return rows.map((r) => ({ ...toAuthRequest(r), organizationUserId: r.organization_user_id, email: r.email }));
  }

  /** The memberships through which an admin could approve this user's device (enrolled in account recovery). */
  async approvingMemberships(userId: string): Promise<{ id: string; organization_id: string }[]> {
    return this.db.rows(
      `SELECT id, organization_id FROM organization_user
       WHERE user_id = $1 AND status >= 0 AND reset_password_key IS NOT NULL`,
      [userId],
    );
  }

  /** Marks the request used by a login; false when it was used already (single use). */
  async authenticate(id: string, at: Date): Promise<boolean> {
    const updated = await this.db.execute(
      'UPDATE auth_request SET authentication_date = $2 WHERE id = $1 AND authentication_date IS NULL',
      [id, at],
    );
    return updated === 1;
  }
}
