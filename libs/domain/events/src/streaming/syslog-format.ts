import type { StreamEvent } from './event-stream';

/**
 * RFC 5424 messages for the operator's syslog: facility 13 (log audit), severity 6 (informational),
 * MSGID the event type number, the event's ids as structured data under the documentation
 * enterprise number 32473 (RFC 5612), and the whole event as JSON in MSG.
 */
const PRI = 13 * 8 + 6;
const SD_ID = 'keyhaven@32473';
/** RFC 5424 §6.3.3: inside PARAM-VALUE, `"`, `\` and `]` are escaped with a backslash. */
const sdValue = (value: string): string => value.replace(/["\\\]]/g, (c) => `\\${c}`);
/** HOSTNAME, APP-NAME: printable US-ASCII without spaces, bounded; `-` when empty. */
const token = (value: string, max: number): string => value.replace(/[^\x21-\x7e]/g, '').slice(0, max) || '-';

const SD_FIELDS = [
  'id',
  'organizationId',
  'actingUserId',
  'userId',
  'cipherId',
  'collectionId',
  'groupId',
  'policyId',
  'organizationUserId',
  'deviceType',
  'ipAddress',
  'domainName',
] as const;

export function syslogMessage(event: StreamEvent, hostname: string): string {
  const params = SD_FIELDS.flatMap((field) => {
    const value = event[field];
    return value === null ? [] : [`${field}="${sdValue(String(value))}"`];
  });
  const sd = `[${SD_ID} type="${event.type}" ${params.join(' ')}]`.replace(' ]', ']');
  return `<${PRI}>1 ${event.date} ${token(hostname, 255)} keyhaven - ${event.type} ${sd} ${JSON.stringify(event)}`;
}

/** RFC 5425/6587 octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in bytes of the UTF-8 message. */
export function frame(message: string): Buffer {
  const bytes = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${bytes.length} `, 'ascii'), bytes]);
}
