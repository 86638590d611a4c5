import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { KeyhavenError } from '@keyhaven/contracts';
import {
  OrgPermissionGuard,
  orgPermissionOf,
  type OrgMembershipLookup,
  type OrgPermissionName,
  type Principal,
} from '@keyhaven/platform-auth';
import { ApiServiceModule } from '../api.module';
import { MembersController } from './members.controller';

type Constructor = abstract new (...args: never[]) => unknown;

/** A handler of MembersController, as Nest's metadata sees it. */
const membersHandler = (name: keyof MembersController): object =>
  (MembersController.prototype as unknown as Record<string, object>)[name] ?? {};

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'ALL', 'OPTIONS', 'HEAD', 'SEARCH'];

interface Route {
  readonly route: string;
  readonly controller: Constructor;
  readonly handler: object;
}

const paths = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value ?? '']).map((p) => String(p).replace(/^\/+|\/+$/g, ''));

/** Every route of a module and the modules it imports, as Nest reads them from the decorators. */
function routesOf(module: unknown, seen = new Set<unknown>()): Route[] {
  if (!module || seen.has(module)) return [];
  seen.add(module);
  const target = module;
  const imports = (Reflect.getMetadata(MODULE_METADATA.IMPORTS, target) ?? []) as unknown[];
  const controllers = (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, target) ?? []) as Constructor[];
  const routes: Route[] = controllers.flatMap((controller) => {
    const prototype = controller.prototype as Record<string, unknown>;
    return Object.getOwnPropertyNames(prototype).flatMap((name) => {
      const handler = prototype[name];
      if (typeof handler !== 'function' || name === 'constructor') return [];
      const handlerPath = Reflect.getMetadata(PATH_METADATA, handler) as unknown;
      if (handlerPath === undefined) return [];
      const method = METHODS[Reflect.getMetadata(METHOD_METADATA, handler) as number] ?? '?';
      return paths(Reflect.getMetadata(PATH_METADATA, controller)).flatMap((base) =>
        paths(handlerPath).map((path) => ({
          route: `${method} /${[base, path].filter(Boolean).join('/')}`,
          controller,
          handler,
        })),
      );
    });
  });
  return [...routes, ...imports.flatMap((m) => routesOf(m, seen))];
}

describe('organization routes declare their permission', () => {
  const routes = routesOf(ApiServiceModule);

  test('the api module has organization routes to check', () => {
    assert.ok(routes.filter((r) => r.route.includes(':orgId')).length >= 40, routes.map((r) => r.route).join('\n'));
  });

  test('every route under :orgId carries @OrgPermission (or OrgPermission.none with a reason)', () => {
    const undeclared = routes
      .filter((r) => r.route.includes(':orgId') && !orgPermissionOf(r.controller, r.handler))
      .map((r) => r.route);
    assert.deepEqual(undeclared, [], `routes without an organization permission:\n${undeclared.join('\n')}`);
  });

  test('the declarations are the ones the authorization matrix expects', () => {
    const needs = (name: keyof MembersController): readonly OrgPermissionName[] | undefined =>
      orgPermissionOf(MembersController, membersHandler(name))?.needs;
    assert.deepEqual(needs('list'), ['manageUsers', 'manageGroups']);
    assert.deepEqual(needs('invite'), ['manageUsers']);
    assert.deepEqual(needs('accept'), []);
    assert.ok(orgPermissionOf(MembersController, membersHandler('accept'))?.openBecause);
  });
});

describe('the organization permission guard', () => {
  const ORG = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const OTHER = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
  const USER = '16fd2706-8baf-433b-82eb-8c7fada847da';
  const membership = { id: 'member', organizationId: ORG };
  const calls: { organizationId: string; needs: readonly OrgPermissionName[] }[] = [];
  const lookup: OrgMembershipLookup = {
    membershipFor: (organizationId, userId, needs) => {
      calls.push({ organizationId, needs });
      return Promise.resolve(
        organizationId === ORG && userId === USER && needs.includes('manageUsers') ? membership : null,
      );
    },
    denied: () => new KeyhavenError('not_found', 'Organization not found.'),
  };
  const guard = new OrgPermissionGuard(new Reflector(), lookup);

  function context(orgId: string, principal: Partial<Principal> = { kind: 'user', userId: USER }) {
    const request: Record<string, unknown> = { params: { orgId }, headers: {}, principal };
    const handler = membersHandler('invite');
    const ctx = {
      getHandler: () => handler,
      getClass: () => MembersController,
      switchToHttp: () => ({ getRequest: () => request }),
    } as unknown as ExecutionContext;
    return { ctx, request };
  }

  const denial = async (orgId: string, principal?: Partial<Principal>): Promise<unknown> => {
    try {
      await guard.canActivate(context(orgId, principal).ctx);
      return null;
    } catch (error) {
      return error;
    }
  };

  test('a member with the permission passes and the handler gets the membership', async () => {
    const { ctx, request } = context(ORG.toUpperCase());
    assert.equal(await guard.canActivate(ctx), true);
    assert.equal(request['orgMembership'], membership);
    assert.deepEqual(calls.at(-1), { organizationId: ORG, needs: ['manageUsers'] });
  });

  test('an organization that does not exist and one that is not yours answer the same', async () => {
    const missing = await denial('00000000-0000-0000-0000-000000000001');
    const foreign = await denial(OTHER);
    assert.ok(missing instanceof KeyhavenError);
    assert.deepEqual(
      [missing.code, missing.message],
      [(foreign as KeyhavenError).code, (foreign as KeyhavenError).message],
    );
  });

  test('a malformed organization id is a 400 before any lookup', async () => {
    const before = calls.length;
    const error = await denial('not-a-guid');
    assert.ok(error instanceof KeyhavenError);
    assert.equal(error.code, 'bad_request');
    assert.equal(calls.length, before);
  });

  test('an organization API token never passes a member route', async () => {
    const error = await denial(ORG, { kind: 'organization', userId: ORG });
    assert.ok(error instanceof KeyhavenError);
    assert.equal(error.code, 'unauthorized');
  });
});
