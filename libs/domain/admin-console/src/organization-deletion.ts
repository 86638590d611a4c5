import { Injectable } from '@nestjs/common';

/**
 * What another domain must do before an organization and everything in it is deleted; billing ends the
 * organization's Stripe subscription here. The organization's tables are this domain's, so other
 * domains hear of the deletion through this port instead of a trigger or a cascade of their own.
 */
export interface OrganizationDeletionHook {
  /** Runs before the delete; a throw refuses the deletion and nothing is deleted. */
  beforeOrganizationDeleted(organizationId: string): Promise<void>;
}

/**
 * The hooks, registered by their modules when the application starts (a domain that imports this one
 * registers itself, so this module needs no import of theirs). Wiring only: nothing here is state
 * another instance needs.
 */
@Injectable()
export class OrganizationDeletionHooks {
  private readonly hooks: OrganizationDeletionHook[] = [];

  register(hook: OrganizationDeletionHook): void {
    if (!this.hooks.includes(hook)) this.hooks.push(hook);
  }

  /** One after another, outside any transaction: a hook may call another service (Stripe). */
  async beforeDelete(organizationId: string): Promise<void> {
    for (const hook of this.hooks) await hook.beforeOrganizationDeleted(organizationId);
  }
}
