import type { MailMessage } from '@keyhaven/mail';
import { EmergencyAccessType } from './emergency-access';

/**
 * The emergency-access mails (Bitwarden's set: invite, accepted, confirmed, recovery initiated,
 * approved, rejected, reminder, timed out). Plain text; no key, token or vault data except the
 * invitation link's own token, which is what the mail is for.
 */
const who = (name: string | null, email: string): string => (name ? `${name} (${email})` : email);
const access = (type: number): string => (type === EmergencyAccessType.Takeover ? 'take over' : 'view');

export const emergencyMail = {
  invite(to: string, grantor: { name: string | null; email: string }, link: string): MailMessage {
    return {
      to,
      subject: 'Emergency Access Contact Invite',
      text:
        `${who(grantor.name, grantor.email)} invited you to be an emergency contact.\n\n` +
        `Accept the invitation: ${link}\n\nThe link is valid for 5 days.`,
    };
  },
  accepted(to: string, granteeEmail: string): MailMessage {
    return {
      to,
      subject: 'Accepted Emergency Access',
      text: `${granteeEmail} accepted your emergency access invitation. Confirm them in your vault's Emergency access settings.`,
    };
  },
  confirmed(to: string, grantor: { name: string | null; email: string }): MailMessage {
    return {
      to,
      subject: 'You Have Been Confirmed as an Emergency Contact',
      text: `${who(grantor.name, grantor.email)} confirmed you as an emergency contact.`,
    };
  },
  initiated(to: string, granteeEmail: string, type: number, waitTimeDays: number): MailMessage {
    return {
      to,
      subject: 'Emergency Access Initiated',
      text:
        `${granteeEmail} asked for emergency access to ${access(type)} your account. ` +
        `Unless you reject it, access is granted in ${waitTimeDays} day(s).`,
    };
  },
  approved(to: string, grantor: { name: string | null; email: string }): MailMessage {
    return {
      to,
      subject: 'Emergency Access Approved',
      text: `Your emergency access request for ${who(grantor.name, grantor.email)}'s account was approved.`,
    };
  },
  rejected(to: string, grantor: { name: string | null; email: string }): MailMessage {
    return {
      to,
      subject: 'Emergency Access Rejected',
      text: `Your emergency access request for ${who(grantor.name, grantor.email)}'s account was rejected.`,
    };
  },
  reminder(to: string, granteeEmail: string, type: number, daysLeft: number): MailMessage {
    return {
      to,
      subject: 'Pending Emergency Access Request',
      text:
        `${granteeEmail} is waiting for emergency access to ${access(type)} your account. ` +
        `Unless you reject it, access is granted in ${daysLeft} day(s).`,
    };
  },
  timedOut(to: string, granteeEmail: string, type: number): MailMessage {
    return {
      to,
      subject: 'Emergency Access Granted',
      text: `The waiting time is over: ${granteeEmail} now has emergency access to ${access(type)} your account.`,
    };
  },
};
