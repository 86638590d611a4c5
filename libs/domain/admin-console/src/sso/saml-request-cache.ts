import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import type { SsoPendingRepository } from './sso-pending.repository';

/**
 * node-saml's request-id store, backed by `sso_pending` (kind `saml-request`) instead of its
 * in-process default, so the ACS may run on another instance than the one that sent the
 * AuthnRequest. One instance per login step:
 *
 * - when sending, `saveAsync` writes the AuthnRequest id with the flow's TTL;
 * - when validating, `getAsync` answers only for the id this flow sent (`expected`), and takes the row
 *   (delete-returning) on first use, so a response is accepted at most once even when two instances
 *   race; node-saml asks twice per response (Response and SubjectConfirmationData), hence the memo,
 *   which lives only as long as this one validation.
 */
export class SamlRequestCache implements CacheProvider {
  private readonly taken = new Map<string, string | null>();

  constructor(
    private readonly pending: SsoPendingRepository,
    private readonly ttlMs: number,
    private readonly expected: string | null = null,
  ) {}

  async saveAsync(key: string, value: string): Promise<CacheItem> {
    await this.pending.put('saml-request', key, { createdAt: value }, this.ttlMs);
    return { value, createdAt: Date.now() };
  }

  async getAsync(key: string): Promise<string | null> {
    // A response to another flow's request (or an invented id) is never looked up.
    if (key !== this.expected) return null;
    if (!this.taken.has(key)) {
      const row = await this.pending.take<{ createdAt: string }>('saml-request', key);
      this.taken.set(key, row?.createdAt ?? null);
    }
    return this.taken.get(key) ?? null;
  }

  async removeAsync(key: string | null): Promise<string | null> {
    // Only this flow's own id: an id copied from someone else's login must not cancel theirs.
    if (key && key === this.expected && !this.taken.has(key)) await this.pending.take('saml-request', key);
    return key;
  }
}
