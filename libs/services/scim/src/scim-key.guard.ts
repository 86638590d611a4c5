import { type CanActivate, type ExecutionContext, Injectable, type PipeTransform } from '@nestjs/common';
import { isGuid } from '@keyhaven/contracts';
import { ScimError, ScimSetupService } from '@keyhaven/domain-admin-console';

interface ScimRequest {
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string | undefined>;
  method?: string;
}

const unauthorized = (): ScimError => new ScimError(401, 'The SCIM API key is missing or not valid.');

/** Writes carry JSON: SCIM's own media type or plain JSON (ENTERPRISE.md §4.2); anything else is a 415. */
const JSON_MEDIA = /^application\/(scim\+)?json\s*(;|$)/i;

/**
 * SCIM's authentication (ENTERPRISE.md §4.1): exactly one Authorization header holding `Bearer <key>`
 * or the bare key, the organization's SCIM key, the organization enabled and its SCIM connection on.
 * Everything else is a 401; an organization id that is not a GUID is one too (it names no key).
 */
@Injectable()
export class ScimKeyGuard implements CanActivate {
  constructor(private readonly setup: ScimSetupService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ScimRequest>();
    const header = request.headers.authorization;
    const organizationId = request.params?.['orgId'];
    if (typeof header !== 'string' || !organizationId || !isGuid(organizationId)) throw unauthorized();
    const key = header.replace(/^Bearer\s+/i, '').trim();
    if (key.length === 0 || key.length > 200) throw unauthorized();
    if (!(await this.setup.verifyKey(organizationId.toLowerCase(), key))) throw unauthorized();
    const method = request.method ?? 'GET';
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const type = request.headers['content-type'];
      if (typeof type !== 'string' || !JSON_MEDIA.test(type))
        throw new ScimError(415, 'Send the body as application/scim+json or application/json.');
    }
    return true;
  }
}

/** A resource id that is not a GUID names nothing: the same 404 as an unknown one (RFC 7644 §3.12). */
@Injectable()
export class ScimIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string' || !isGuid(value)) throw new ScimError(404, 'Resource not found.');
    return value.toLowerCase();
  }
}
