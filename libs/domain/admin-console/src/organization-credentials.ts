import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { constantTimeEquals } from '@keyhaven/domain-auth';
import type { OrganizationCredentials } from '@keyhaven/platform-auth';
import { OrganizationRepository } from './organization.repository';

/** The stamp is derived from the key, so rotating the key ends every token issued with the old one. */
const stampOf = (apiKey: string): string => createHash('sha256').update(apiKey).digest('hex').slice(0, 32);

@Injectable()
export class OrganizationCredentialsService implements OrganizationCredentials {
  constructor(private readonly organizations: OrganizationRepository) {}

  async verify(organizationId: string, secret: string): Promise<string | null> {
    const org = await this.organizations.findById(organizationId);
    if (!org?.enabled || !constantTimeEquals(org.apiKey, secret)) return null;
    return stampOf(org.apiKey);
  }

  async stampOf(organizationId: string): Promise<string | null> {
    const org = await this.organizations.findById(organizationId);
    return org?.enabled ? stampOf(org.apiKey) : null;
  }
}
