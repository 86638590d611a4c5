import type { HttpClient } from '@keyhaven/testing';
import type { Account } from '@keyhaven/vault-crypto';

/**
 * A Directory Connector sync body for `POST /api/public/organization/import`: `size` new members (addresses
 * in mixed case, as directories send them) spread over `groups` groups.
 */
export function directoryImport(size: number, groups: number): Record<string, unknown> {
  const members = Array.from({ length: size }, (_, i) => ({
    email: `Import.User${i}@Directory.Example.com`,
    externalId: `dir-${i}`,
    deleted: false,
  }));
  return {
    members,
    groups: Array.from({ length: groups }, (_, g) => ({
      name: `Directory group ${g}`,
      externalId: `dir-group-${g}`,
      memberExternalIds: members.filter((_, i) => i % groups === g).map((m) => m.externalId),
    })),
    overwriteExisting: false,
    largeImport: size > 2000,
  };
}

/** An access token for the organization's public API key, made by its owner as the web vault does. */
export async function organizationApiToken(
  http: HttpClient,
  owner: Account,
  ownerToken: string,
  orgId: string,
): Promise<string> {
  const key = await http.post<{ apiKey: string }>(`/api/organizations/${orgId}/api-key`, {
    token: ownerToken,
    json: { masterPasswordHash: owner.masterPasswordHash },
  });
  if (key.status !== 200) throw new Error(`api-key: ${key.status} ${key.text}`);
  const res = await http.post<{ access_token: string }>('/identity/connect/token', {
    form: {
      grant_type: 'client_credentials',
      scope: 'api.organization',
      client_id: `organization.${orgId}`,
      client_secret: key.body.apiKey,
    },
  });
  if (res.status !== 200) throw new Error(`org token: ${res.status} ${res.text}`);
  return res.body.access_token;
}
