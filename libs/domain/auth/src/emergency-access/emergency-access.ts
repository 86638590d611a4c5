/** Bitwarden's wire numbers for emergency access. */
export const EmergencyAccessStatus = {
  Invited: 0,
  Accepted: 1,
  Confirmed: 2,
  RecoveryInitiated: 3,
  RecoveryApproved: 4,
} as const;
export type EmergencyAccessStatus = (typeof EmergencyAccessStatus)[keyof typeof EmergencyAccessStatus];

export const EmergencyAccessType = { View: 0, Takeover: 1 } as const;
export type EmergencyAccessType = (typeof EmergencyAccessType)[keyof typeof EmergencyAccessType];

/** One grant: a grantor lets a trusted contact (the grantee) view or take over the vault after a wait. */
export interface EmergencyAccess {
  readonly id: string;
  readonly grantorId: string;
  readonly granteeId: string | null;
  /** The invited address (lower-cased) until the grantee accepts. */
  readonly email: string | null;
  /** The grantor's user key, RSA-encapsulated to the grantee's public key by the grantor's client. */
  readonly keyEncrypted: string | null;
  readonly type: number;
  readonly status: number;
  readonly waitTimeDays: number;
  readonly recoveryInitiatedDate: Date | null;
  readonly lastNotificationDate: Date | null;
  readonly creationDate: Date;
  readonly revisionDate: Date;
}

/** A grant with the other party's account details, as the lists show it. */
export interface EmergencyAccessDetails extends EmergencyAccess {
  readonly grantorName: string | null;
  readonly grantorEmail: string;
  readonly grantorAvatarColor: string | null;
  readonly granteeName: string | null;
  readonly granteeEmail: string | null;
  readonly granteeAvatarColor: string | null;
}

/** `EmergencyAccessGranteeDetailsResponseModel`: the grantor's view of a trusted contact. */
export function granteeDetailsJson(d: EmergencyAccessDetails): Record<string, unknown> {
  return {
    id: d.id,
    granteeId: d.granteeId,
    // While invited there is no account yet: the invite address, and no name.
    name: d.granteeId ? d.granteeName : null,
    email: d.granteeEmail ?? d.email,
    type: d.type,
    status: d.status,
    waitTimeDays: d.waitTimeDays,
    creationDate: d.creationDate.toISOString(),
    avatarColor: d.granteeId ? d.granteeAvatarColor : null,
    object: 'emergencyAccessGranteeDetails',
  };
}

/** `EmergencyAccessGrantorDetailsResponseModel`: the grantee's view of someone who trusts them. */
export function grantorDetailsJson(d: EmergencyAccessDetails): Record<string, unknown> {
  return {
    id: d.id,
    grantorId: d.grantorId,
    name: d.grantorName,
    email: d.grantorEmail,
    type: d.type,
    status: d.status,
    waitTimeDays: d.waitTimeDays,
    creationDate: d.creationDate.toISOString(),
    avatarColor: d.grantorAvatarColor,
    object: 'emergencyAccessGrantorDetails',
  };
}
