import { createHash } from 'node:crypto';

/** Bitwarden's wire numbers for Sends. Type 2 (Item) sits behind a server flag and is refused. */
export const SendType = { Text: 0, File: 1 } as const;
export type SendType = (typeof SendType)[keyof typeof SendType];

export const SendAuthType = { Email: 0, Password: 1, None: 2 } as const;
export type SendAuthType = (typeof SendAuthType)[keyof typeof SendAuthType];

/** The client's encrypted payload, stored as sent: a text Send's `{text, hidden}`, a file Send's `{fileName}`. */
export interface SendText {
  readonly text: string | null;
  readonly hidden: boolean;
}
export interface SendFileData {
  readonly fileName: string;
}

export interface Send {
  readonly id: string;
  readonly userId: string;
  readonly type: SendType;
  readonly authType: SendAuthType;
  readonly name: string;
  readonly notes: string | null;
  readonly key: string;
  readonly text: SendText | null;
  readonly file: SendFileData | null;
  readonly fileId: string | null;
  /** Declared (encrypted) size in bytes. */
  readonly fileSize: number | null;
  readonly fileUploaded: boolean;
  readonly passwordHash: string | null;
  readonly emails: string | null;
  readonly maxAccessCount: number | null;
  readonly accessCount: number;
  readonly disabled: boolean;
  readonly hideEmail: boolean;
  readonly creationDate: Date;
  readonly revisionDate: Date;
  readonly expirationDate: Date | null;
  readonly deletionDate: Date;
}

/**
 * The link id: base64url (no padding) of the id's 16 bytes in RFC 4122 order. Clients treat it as
 * opaque (copied into the URL and `send_id`), so any self-consistent encoding works.
 */
export function accessIdOf(id: string): string {
  return Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url');
}

/** The Send id behind an access id, or null when it is not one (never throws on client input). */
export function sendIdFromAccessId(accessId: string): string | null {
  if (!/^[A-Za-z0-9_-]{22}$/.test(accessId)) return null;
  const hex = Buffer.from(accessId, 'base64url').toString('hex');
  if (hex.length !== 32) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Whether a recipient may still open it: enabled, not expired, not past deletion, accesses left. */
export function isAccessible(send: Send, now = new Date()): boolean {
  if (send.disabled) return false;
  if (send.expirationDate && send.expirationDate <= now) return false;
  if (send.deletionDate <= now) return false;
  if (send.maxAccessCount !== null && send.accessCount >= send.maxAccessCount) return false;
  // A file Send whose upload never arrived has nothing to hand out.
  return send.type !== SendType.File || send.fileUploaded;
}

const SIZE_UNITS = ['Bytes', 'KB', 'MB', 'GB'];

/** The size as the clients show it ("1.5 MB"). */
export function sizeName(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : Math.round(value * 100) / 100} ${SIZE_UNITS[unit] ?? 'Bytes'}`;
}

function fileJson(send: Send): Record<string, unknown> | null {
  if (send.type !== SendType.File || !send.file) return null;
  const size = send.fileSize ?? 0;
  // `size` is a string on the wire (mobile parses it as one).
  return { id: send.fileId, fileName: send.file.fileName, size: String(size), sizeName: sizeName(size) };
}

/**
 * What `password` says in the JSON: a digest of the stored hash (the clients only test it for null).
 * A client that echoes it back on an edit keeps the password instead of re-hashing the echo.
 */
export function passwordMarker(passwordHash: string): string {
  return createHash('sha256').update(passwordHash).digest('base64url');
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/**
 * `SendResponseModel` (`object: "send"`) as create, edit, list and sync return it. `password` only
 * says whether one is set (see passwordMarker): neither the client's hash nor the stored one leaves.
 */
export function sendJson(send: Send): Record<string, unknown> {
  return {
    id: send.id,
    accessId: accessIdOf(send.id),
    type: send.type,
    authType: send.authType,
    name: send.name,
    notes: send.notes,
    text: send.type === SendType.Text ? send.text : null,
    file: fileJson(send),
    key: send.key,
    maxAccessCount: send.maxAccessCount,
    accessCount: send.accessCount,
    password: send.passwordHash ? passwordMarker(send.passwordHash) : null,
    emails: send.emails,
    disabled: send.disabled,
    hideEmail: send.hideEmail,
    revisionDate: send.revisionDate.toISOString(),
    expirationDate: iso(send.expirationDate),
    deletionDate: send.deletionDate.toISOString(),
    object: 'send',
  };
}

/** `SendAccessResponseModel`: what a recipient reads; the creator's email only when not hidden. */
export function sendAccessJson(send: Send, creatorEmail: string | null): Record<string, unknown> {
  return {
    id: accessIdOf(send.id),
    type: send.type,
    authType: send.authType,
    name: send.name,
    text: send.type === SendType.Text ? send.text : null,
    file: fileJson(send),
    expirationDate: iso(send.expirationDate),
    creatorIdentifier: send.hideEmail ? null : creatorEmail,
    object: 'send-access',
  };
}
