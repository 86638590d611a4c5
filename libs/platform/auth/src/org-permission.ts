import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  UseGuards,
  applyDecorators,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { parseGuid, unauthorized } from '@keyhaven/contracts';
import type { RequestWithPrincipal } from './principal';

/**
 * What an organization route needs of the caller: any confirmed membership (`member`), the Owner
 * role, Owner or Admin (`admin`), or one of the Custom role's flags (Owners and Admins hold them all).
 * `joining` also lets in an account whose membership is not confirmed yet (invited with an account,
 * as SSO provisions, or accepted): the steps a new member takes before an admin confirms them.
 */
export type OrgPermissionName =
  | 'member'
  | 'joining'
  | 'owner'
  | 'admin'
  | 'accessEventLogs'
  | 'accessImportExport'
  | 'accessReports'
  | 'createNewCollections'
  | 'editAnyCollection'
  | 'deleteAnyCollection'
  | 'manageGroups'
  | 'managePolicies'
  | 'manageSso'
  | 'manageUsers'
  | 'manageResetPassword'
  | 'manageScim';

/** Where the organization id of a request is: a route parameter (default `orgId`) or a query parameter. */
export type OrgIdLocation = { readonly param: string } | { readonly query: string };

/** What `@OrgPermission` records on a route. `needs` empty: the route is declared open to non-members. */
export interface OrgPermissionDeclaration {
  readonly needs: readonly OrgPermissionName[];
  readonly at: OrgIdLocation;
  /** Why a route under an organization path asks for no membership (only for `OrgPermission.none`). */
  readonly openBecause?: string;
}

export const ORG_PERMISSION = 'keyhaven:orgPermission';

/**
 * The organization-membership check the guard calls; implemented by the admin-console domain.
 * Resolves the caller's membership when it satisfies any of `needs`, else null — whether the
 * organization does not exist, the caller is not in it, or lacks the role: all answer the same.
 */
export interface OrgMembershipLookup {
  membershipFor(organizationId: string, userId: string, needs: readonly OrgPermissionName[]): Promise<unknown>;
  /** The error answered when `membershipFor` returns null (the domain's "not found"). */
  denied(): Error;
}

export const ORG_MEMBERSHIP_LOOKUP = Symbol('ORG_MEMBERSHIP_LOOKUP');

/** Set on the request by the guard; read with `@OrgMember()`. */
interface RequestWithMembership extends RequestWithPrincipal {
  params?: Record<string, string | undefined>;
  orgMembership?: unknown;
}

/** Runs after the global auth guard: the principal is verified, the organization check remains. */
@Injectable()
export class OrgPermissionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ORG_MEMBERSHIP_LOOKUP) private readonly lookup: OrgMembershipLookup,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const declaration = this.reflector.getAllAndOverride<OrgPermissionDeclaration | undefined>(ORG_PERMISSION, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!declaration || declaration.needs.length === 0) return true;
    const request = context.switchToHttp().getRequest<RequestWithMembership>();
    // Declared on the controller and on the handler, the guard is installed twice: check once.
    if (request.orgMembership !== undefined) return true;
    const principal = request.principal;
    if (principal?.kind !== 'user') throw unauthorized();
    const at = declaration.at;
    const raw =
      'param' in at ? request.params?.[at.param] : (request.query as Record<string, unknown> | undefined)?.[at.query];
    // The same 400 as ParseGuidPipe gives, before anything reaches the database.
    const organizationId = parseGuid(raw, 'param' in at ? at.param : at.query);
    const membership = await this.lookup.membershipFor(organizationId, principal.userId, declaration.needs);
    if (membership === null || membership === undefined) throw this.lookup.denied();
    request.orgMembership = membership;
    return true;
  }
}

function declare(declaration: OrgPermissionDeclaration): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(ORG_PERMISSION, declaration), UseGuards(OrgPermissionGuard));
}

/**
 * `@OrgPermission('manageUsers')`: the caller needs a confirmed membership of the organization in
 * the `orgId` route parameter with any one of the given roles or flags (none given: any confirmed
 * member). Anything less answers exactly like an organization that does not exist. The handler
 * reads the membership with `@OrgMember()`.
 */
export function OrgPermission(...needs: OrgPermissionName[]): MethodDecorator & ClassDecorator {
  return declare({ needs: needs.length === 0 ? ['member'] : needs, at: { param: 'orgId' } });
}

/** The same check with the organization id elsewhere: `OrgPermission.at({ query: 'organizationId' }, 'admin')`. */
OrgPermission.at = (at: OrgIdLocation, ...needs: OrgPermissionName[]): MethodDecorator & ClassDecorator =>
  declare({ needs: needs.length === 0 ? ['member'] : needs, at });

/**
 * A route under an organization path that deliberately asks for no membership (for instance the
 * invited user accepting an invitation: the token is the proof). Declared, so the route check sees
 * that someone decided.
 */
OrgPermission.none = (because: string): MethodDecorator & ClassDecorator =>
  SetMetadata(ORG_PERMISSION, { needs: [], at: { param: 'orgId' }, openBecause: because });

/** The caller's membership that `@OrgPermission` checked (the admin-console domain's `Membership`). */
export const OrgMember = createParamDecorator((_data: unknown, context: ExecutionContext): unknown => {
  const request = context.switchToHttp().getRequest<RequestWithMembership>();
  if (request.orgMembership === undefined) throw new Error('OrgMember used on a route without @OrgPermission');
  return request.orgMembership;
});

/** The declaration on a handler or its controller, for route audits. */
export function orgPermissionOf(controller: object, handler: object): OrgPermissionDeclaration | undefined {
  const onHandler = Reflect.getMetadata(ORG_PERMISSION, handler) as OrgPermissionDeclaration | undefined;
  return onHandler ?? (Reflect.getMetadata(ORG_PERMISSION, controller) as OrgPermissionDeclaration | undefined);
}
