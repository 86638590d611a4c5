import { Resolver } from 'node:dns/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';

/**
 * Asks DNS for a domain's TXT records at the apex, through the system resolver (or the servers
 * `CLAIMED_DOMAINS_DNS_SERVERS` names). A lookup that fails for any reason (no such name, no TXT,
 * timeout) simply does not verify: the admin sees `verifiedDate: null` and may try again.
 */
@Injectable()
export class DomainTxtResolver {
  private readonly logger = new Logger('claimed-domains');
  private readonly resolver: Resolver;

  constructor(@Inject(KEYHAVEN_CONFIG) config: KeyhavenConfig) {
    this.resolver = new Resolver({ timeout: 3000, tries: 2 });
    if (config.CLAIMED_DOMAINS_DNS_SERVERS.length > 0) this.resolver.setServers(config.CLAIMED_DOMAINS_DNS_SERVERS);
  }

  /** True when any TXT record's first string is exactly `expected`. */
  async hasRecord(domainName: string, expected: string): Promise<boolean> {
    try {
      const records = await this.resolver.resolveTxt(domainName);
      return records.some((chunks) => chunks[0] === expected);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'error';
      this.logger.log(`TXT lookup for ${domainName} found no record (${code})`);
      return false;
    }
  }
}
