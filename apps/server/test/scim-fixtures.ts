import assert from 'node:assert/strict';
import type { HttpClient, HttpResponse } from '@keyhaven/testing';
import { call, ok, type Org } from './org-fixtures';

export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface ScimUser {
  id: string;
  externalId: string | null;
  userName: string;
  active: boolean;
  meta: { resourceType: string; created: string; lastModified: string; location: string };
}

export interface ScimList<T> {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: T[];
}

/** A SCIM client of one organization, sending what the given directory sends. */
export interface ScimGroup {
  schemas: string[];
  id: string;
  displayName: string;
  externalId: string | null;
  meta: { resourceType: string; created: string; lastModified: string; location: string };
}

/** `?filter=…` for a SCIM filter expression. */
export const filterQuery = (filter: string): string => `?filter=${encodeURIComponent(filter)}`;

export class ScimClient {
  constructor(
    private readonly http: HttpClient,
    readonly orgId: string,
    private key: string,
    private readonly extraHeaders: Record<string, string> = {},
    /** `raw`: the key without `Bearer ` (accepted too). */
    private readonly style: 'bearer' | 'raw' = 'bearer',
  ) {}

  withKey(key: string): ScimClient {
    return new ScimClient(this.http, this.orgId, key, this.extraHeaders, this.style);
  }

  request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    return this.http.request<T>(method, `/scim/v2/${this.orgId}${path}`, {
      headers: {
        authorization: this.style === 'bearer' ? `Bearer ${this.key}` : this.key,
        ...this.extraHeaders,
        ...headers,
      },
      ...(body === undefined
        ? {}
        : {
            rawBody: typeof body === 'string' ? body : JSON.stringify(body),
            contentType: headers['content-type'] ?? 'application/scim+json',
          }),
    });
  }

  get<T = unknown>(path: string): Promise<HttpResponse<T>> {
    return this.request<T>('GET', path);
  }

  patch(path: string, operations: unknown[]): Promise<HttpResponse> {
    return this.request('PATCH', path, { schemas: [PATCH_OP], Operations: operations });
  }
}

/** Asserts a SCIM error: the status, RFC 7644's body with the same status, SCIM's media type, no stack. */
export function assertScimError(res: HttpResponse, status: number, scimType?: string, context = ''): void {
  assert.equal(res.status, status, `${context} ${res.text}`);
  assert.match(String(res.headers['content-type']), /^application\/scim\+json/, context);
  const body = res.body as { schemas?: string[]; status?: string; detail?: string; scimType?: string };
  assert.deepEqual(body.schemas, [SCIM_ERROR], `${context} ${res.text}`);
  assert.equal(body.status, String(status), context);
  assert.equal(typeof body.detail, 'string', context);
  if (scimType) assert.equal(body.scimType, scimType, `${context} ${res.text}`);
  assert.doesNotMatch(res.text, /\n\s+at |node_modules/, 'no stack trace');
}

/** What the web vault's SCIM page does: turn the connection on, then show the key. */
export async function enableScim(
  http: HttpClient,
  org: Org,
  ownerToken: string,
  passwordHash: string,
): Promise<string> {
  ok(
    await call(http, ownerToken, 'POST', '/api/organizations/connections', {
      type: 2,
      organizationId: org.id,
      enabled: true,
      config: { enabled: true, scimProvider: 1 },
    }),
    'create SCIM connection',
  );
  return ok(
    await call<{ apiKey: string }>(http, ownerToken, 'POST', `/api/organizations/${org.id}/api-key`, {
      type: 2,
      masterPasswordHash: passwordHash,
    }),
    'SCIM key',
  ).apiKey;
}
