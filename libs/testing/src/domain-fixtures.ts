import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { KeyhavenError, type ErrorCode } from '@keyhaven/contracts';
import {
  AccountsService,
  UserRepository,
  registerFinishSchema,
  type RegisterFinishRequest,
  type User,
  type TokenForm,
} from '@keyhaven/domain-auth';
import {
  CollectionRepository,
  CollectionsService,
  MemberRepository,
  MembersService,
  OrganizationsService,
  collectionRequestSchema,
  createOrganizationSchema,
  inviteSchema,
  type Collection,
  type Membership,
  type Organization,
  type Permissions,
} from '@keyhaven/domain-admin-console';
import { cipherRequestSchema, type CipherRequest } from '@keyhaven/domain-vault';
import type { DomainContext } from './domain-module';

/**
 * Intent-named builders for the in-process domain tests. Every one goes through the public domain
 * services (the same calls the controllers make), so a fixture that succeeds is a state the server
 * itself can reach. Names and emails are unique per call: tests share one store per spec file.
 */

const b64 = (bytes: number): string => randomBytes(bytes).toString('base64');

/** A well-formed AES-CBC-256 + HMAC EncString (type 2); the content is random, the server never reads it. */
export function encString(): string {
  return `2.${b64(16)}|${b64(32)}|${b64(32)}`;
}

/** A well-formed RSA-OAEP EncString (type 4), as org keys wrapped for a member are. */
export function rsaEncString(): string {
  return `4.${b64(256)}`;
}

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomUUID().slice(0, 8)}@example.test`;
}

/** A `register/finish` body in the legacy shape, with an acceptable KDF. */
export function registrationBody(
  email: string,
  masterPasswordHash = `hash-${randomUUID()}`,
  extra: Partial<RegisterFinishRequest> = {},
): RegisterFinishRequest {
  return registerFinishSchema.parse({
    email,
    name: email.split('@')[0],
    masterPasswordHash,
    key: encString(),
    keys: { publicKey: b64(294), encryptedPrivateKey: encString() },
    kdf: 0,
    kdfIterations: 600_000,
    ...extra,
  });
}

export interface TestUser {
  readonly user: User;
  /** What the client sends as the master password hash (the server hashes it again). */
  readonly password: string;
}

/** A registered account (legacy route, allowed while mail is not delivered). */
export async function registerUser(ctx: DomainContext, label = 'user'): Promise<TestUser> {
  const password = `hash-${randomUUID()}`;
  const user = await ctx.get(AccountsService).register(registrationBody(uniqueEmail(label), password), false);
  return { user, password };
}

/** The user as stored now (security stamp, revision dates). */
export async function reloadUser(ctx: DomainContext, userId: string): Promise<User> {
  const user = await ctx.get(UserRepository).findById(userId);
  if (!user) throw new Error(`user ${userId} is gone`);
  return user;
}

export interface TestOrganization {
  readonly org: Organization;
  readonly owner: TestUser;
  readonly ownerMembership: Membership;
  /** The collection created with the organization (the owner manages it). */
  readonly defaultCollection: Collection;
}

/** An organization created by a fresh owner, with one collection. */
export async function createOrganization(ctx: DomainContext, owner?: TestUser): Promise<TestOrganization> {
  const creator = owner ?? (await registerUser(ctx, 'owner'));
  const org = await ctx.get(OrganizationsService).create(
    creator.user.id,
    createOrganizationSchema.parse({
      name: `Org ${randomUUID().slice(0, 8)}`,
      billingEmail: creator.user.email,
      key: encString(),
      keys: { publicKey: b64(294), encryptedPrivateKey: encString() },
      collectionName: encString(),
    }),
  );
  const ownerMembership = await membershipOf(ctx, org.id, creator.user.id);
  const [defaultCollection] = await ctx.get(CollectionRepository).listForOrg(org.id);
  if (!defaultCollection) throw new Error('organization created without its collection');
  return { org, owner: creator, ownerMembership, defaultCollection };
}

export async function membershipOf(ctx: DomainContext, organizationId: string, userId: string): Promise<Membership> {
  const membership = await ctx.get(MemberRepository).findByUser(organizationId, userId);
  if (!membership) throw new Error(`user ${userId} is not a member of ${organizationId}`);
  return membership;
}

/** A collection made by the given actor (who must be allowed to create collections). */
export async function createCollection(
  ctx: DomainContext,
  actor: Membership,
  users: { id: string; readOnly?: boolean; hidePasswords?: boolean; manage?: boolean }[] = [],
): Promise<Collection> {
  return ctx.get(CollectionsService).create(actor, collectionRequestSchema.parse({ name: encString(), users }));
}

export interface CollectionGrant {
  readonly id: string;
  readonly readOnly?: boolean;
  readonly hidePasswords?: boolean;
  readonly manage?: boolean;
}

export interface MemberSpec {
  /** MemberType: Owner 0, Admin 1, User 2, Custom 4. */
  readonly type: 0 | 1 | 2 | 4;
  readonly permissions?: Partial<Permissions>;
  readonly collections?: CollectionGrant[];
  readonly groups?: string[];
}

/** The invitation token from the link handed back when mail is not delivered. */
export function inviteToken(inviteUrl: string | null): string {
  if (!inviteUrl) throw new Error('no invitation link (mail was delivered)');
  const query = inviteUrl.slice(inviteUrl.indexOf('?') + 1);
  const token = new URLSearchParams(query).get('token');
  if (!token) throw new Error('invitation link without a token');
  return token;
}

/** Invites a user as `actor`, returns the new member id and the invitation token. */
export async function invite(
  ctx: DomainContext,
  actor: Membership,
  email: string,
  spec: MemberSpec,
): Promise<{ memberId: string; token: string }> {
  const [result] = await ctx.get(MembersService).invite(
    actor,
    inviteSchema.parse({
      emails: [email],
      type: spec.type,
      permissions: spec.permissions ?? null,
      collections: spec.collections ?? [],
      groups: spec.groups ?? [],
    }),
  );
  if (!result) throw new Error('invite returned nothing');
  return { memberId: result.id, token: inviteToken(result.inviteUrl) };
}

/** A confirmed member: invited by the owner, accepted by a fresh user, confirmed with a wrapped org key. */
export async function addConfirmedMember(
  ctx: DomainContext,
  org: TestOrganization,
  spec: MemberSpec,
  existing?: TestUser,
): Promise<{ member: TestUser; membership: Membership }> {
  const member = existing ?? (await registerUser(ctx, 'member'));
  const members = ctx.get(MembersService);
  const { memberId, token } = await invite(ctx, org.ownerMembership, member.user.email, spec);
  await members.accept(org.org.id, memberId, member.user.id, token);
  await members.confirm(org.ownerMembership, memberId, rsaEncString());
  return { member, membership: await membershipOf(ctx, org.org.id, member.user.id) };
}

/** A CipherRequest as a client sends it (a login item with a well-formed encrypted name and password). */
export function cipherRequest(fields: Record<string, unknown> = {}): CipherRequest {
  return cipherRequestSchema.parse({
    type: 1,
    name: encString(),
    notes: null,
    login: { username: encString(), password: encString(), uris: [] },
    ...fields,
  });
}

/** Rejects with a domain error of this code (and message, when given); anything else fails the test. */
export async function rejectsWithCode(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof KeyhavenError, `expected a KeyhavenError, got ${String(error)}`);
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** A password grant as the CLI sends it, from a new device each time unless `extra` says otherwise. */
export function passwordGrantForm(email: string, password: string, extra: TokenForm = {}): TokenForm {
  return {
    grant_type: 'password',
    username: email,
    password,
    client_id: 'cli',
    scope: 'api offline_access',
    deviceType: '25',
    deviceIdentifier: randomUUID(),
    deviceName: 'linux',
    ...extra,
  };
}
