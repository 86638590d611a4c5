import { randomInt, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { PushPublisher } from '@keyhaven/bus';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, PushType, badRequest, conflict, notFound, rateLimited } from '@keyhaven/contracts';
import { PolicyType } from '../enums';
import { MemberRepository } from '../member.repository';
import { PoliciesService } from '../policies.service';
import { DomainTxtResolver } from './domain-txt-resolver';
import {
  OrganizationDomainRepository,
  type OrganizationDomain,
  type VerifiedDomainSso,
} from './organization-domain.repository';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const isDomainName = (v: string): boolean => v.length <= 253 && v.split('.').every((l) => LABEL.test(l));

/** Older clients also send `txt`: it is ignored, the server makes its own. */
export const domainCreateSchema = z.object({
  domainName: z
    .string()
    .trim()
    .min(1)
    .max(253)
    .transform((v) => v.toLowerCase().replace(/\.$/, ''))
    .refine(isDomainName, 'must be a domain name such as example.com'),
});

export const domainLookupSchema = z.object({ email: z.string().min(3).max(256) });

const TXT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Retries of an unverified domain are offered 12 hours apart (the clients show `nextRunDate`). */
const RETRY_MS = 12 * 3600_000;

export const NOT_AVAILABLE = 'The domain is not available to be claimed.';
const ALREADY_EXISTS = 'A domain already exists for this organization vault.';
const ALREADY_VERIFIED = 'Domain has already been verified.';

export function organizationDomainJson(d: OrganizationDomain): Record<string, unknown> {
  return {
    id: d.id,
    organizationId: d.organizationId,
    txt: d.txt,
    domainName: d.domainName,
    creationDate: d.creationDate.toISOString(),
    nextRunDate: d.nextRunDate.toISOString(),
    jobRunCount: d.jobRunCount,
    verifiedDate: d.verifiedDate?.toISOString() ?? null,
    lastCheckedDate: d.lastCheckedDate?.toISOString() ?? null,
    object: 'organizationDomain',
  };
}

export function verifiedDomainSsoJson(d: VerifiedDomainSso): Record<string, unknown> {
  return { ...d, object: 'verifiedOrganizationDomainSsoDetails' };
}

/**
 * Claimed domains: an organization proves it owns a DNS domain by publishing a TXT record at its
 * apex. A verified domain turns the Single Organization policy on, lets the web vault find the
 * organization's SSO from an email address, and can be held verified by one organization only.
 * For closed networks the operator can name domains that verify without the DNS lookup
 * (`CLAIMED_DOMAINS_VERIFIED_WITHOUT_DNS`); everything else about verification stays the same.
 */
@Injectable()
export class OrganizationDomainsService {
  constructor(
    private readonly db: Database,
    private readonly events: EventRecorder,
    private readonly domains: OrganizationDomainRepository,
    private readonly members: MemberRepository,
    private readonly policies: PoliciesService,
    private readonly txt: DomainTxtResolver,
    private readonly push: PushPublisher,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  list(organizationId: string): Promise<OrganizationDomain[]> {
    return this.domains.listForOrg(organizationId);
  }

  async get(organizationId: string, id: string): Promise<OrganizationDomain> {
    const domain = await this.domains.findInOrg(organizationId, id);
    if (!domain) throw notFound('Domain');
    return domain;
  }

  async create(organizationId: string, body: z.infer<typeof domainCreateSchema>): Promise<OrganizationDomain> {
    const owner = await this.domains.verifiedOwner(body.domainName);
    if (owner !== null && owner !== organizationId) throw conflict(NOT_AVAILABLE);
    const now = new Date();
    const domain: OrganizationDomain = {
      id: randomUUID(),
      organizationId,
      domainName: body.domainName,
      txt: `bw=${Array.from({ length: 44 }, () => TXT_ALPHABET[randomInt(TXT_ALPHABET.length)]).join('')}`,
      creationDate: now,
      nextRunDate: new Date(now.getTime() + RETRY_MS),
      jobRunCount: 0,
      verifiedDate: null,
      lastCheckedDate: null,
    };
    await this.db.transaction(async () => {
      if (!(await this.domains.insert(domain))) throw conflict(ALREADY_EXISTS);
      await this.events.record({
        type: EventType.OrganizationDomain_Added,
        organizationId,
        domainName: domain.domainName,
      });
    });
    return domain;
  }

  /** Checks the TXT record now; the answer carries `verifiedDate: null` when it was not found. */
  async verify(organizationId: string, id: string): Promise<OrganizationDomain> {
    const domain = await this.get(organizationId, id);
    if (domain.verifiedDate) throw conflict(ALREADY_VERIFIED);
    const owner = await this.domains.verifiedOwner(domain.domainName);
    if (owner !== null) throw conflict(NOT_AVAILABLE);
    const found = this.operatorVerified(domain.domainName) || (await this.txt.hasRecord(domain.domainName, domain.txt));
    const now = new Date();
    const checked = await this.db.transaction(async () => {
      const row = await this.domains.recordCheck(domain.id, found, now, new Date(now.getTime() + RETRY_MS));
      if (!row) throw notFound('Domain');
      // Another organization verified the same name between our check and this write.
      if (found && !row.verifiedDate) throw conflict(NOT_AVAILABLE);
      await this.events.record({
        type: found ? EventType.OrganizationDomain_Verified : EventType.OrganizationDomain_NotVerified,
        organizationId,
        domainName: domain.domainName,
      });
      return row;
    });
    if (found) {
      // A claimed domain means the organization's members belong to it alone.
      const singleOrg = await this.policies.find(organizationId, PolicyType.SingleOrg);
      if (!singleOrg?.enabled) await this.policies.save(organizationId, PolicyType.SingleOrg, { enabled: true });
      // Members' profiles now say whether the organization claims them.
      this.push.publishToUsers(PushType.SyncOrganizations, await this.members.userIdsOf(organizationId));
    }
    return checked;
  }

  async remove(organizationId: string, id: string): Promise<void> {
    const removed = await this.db.transaction(async () => {
      const row = await this.domains.delete(organizationId, id);
      if (!row) throw notFound('Domain');
      await this.events.record({
        type: EventType.OrganizationDomain_Removed,
        organizationId,
        domainName: row.domainName,
      });
      return row;
    });
    if (removed.verifiedDate)
      this.push.publishToUsers(PushType.SyncOrganizations, await this.members.userIdsOf(organizationId));
  }

  /** Anonymous: which organizations' SSO covers this email's domain (limited per client address). */
  async ssoVerified(body: z.infer<typeof domainLookupSchema>, ip: string): Promise<VerifiedDomainSso[]> {
    const decision = await this.cacheStore.rateLimiter.hit(
      `domain-sso-lookup:${ip}`,
      this.config.LOGIN_RATE_LIMIT_PER_MINUTE,
      60_000,
    );
    if (!decision.allowed) throw rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
    const at = body.email.lastIndexOf('@');
    const host =
      at > 0
        ? body.email
            .slice(at + 1)
            .trim()
            .toLowerCase()
        : '';
    if (!isDomainName(host) || host === '') throw badRequest('Invalid email address format.');
    return this.domains.verifiedSsoFor(host);
  }

  private operatorVerified(domainName: string): boolean {
    return this.config.CLAIMED_DOMAINS_VERIFIED_WITHOUT_DNS.some(
      (entry) =>
        entry === '*' ||
        entry === domainName ||
        (entry.startsWith('*.') && (domainName === entry.slice(2) || domainName.endsWith(entry.slice(1)))),
    );
  }
}
