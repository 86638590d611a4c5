import { Inject, Injectable, Optional } from '@nestjs/common';
import { IdpError, OIDC_IDP_ADAPTER, SAML_IDP_ADAPTER, type IdpAdapter } from './idp-adapter';
import type { SsoConfigType } from './sso-config';

/**
 * Picks the adapter for a configuration's type. Adapters arrive either by their injection token
 * (OIDC here, SAML from whichever module provides `SAML_IDP_ADAPTER` globally) or by `register()`
 * from an adapter's own `onModuleInit`, so a new protocol plugs in without editing the flow.
 */
@Injectable()
export class IdpAdapterRegistry {
  private readonly adapters = new Map<SsoConfigType, IdpAdapter>();

  constructor(
    @Optional() @Inject(OIDC_IDP_ADAPTER) oidc?: IdpAdapter,
    @Optional() @Inject(SAML_IDP_ADAPTER) saml?: IdpAdapter,
  ) {
    for (const adapter of [oidc, saml]) if (adapter) this.register(adapter);
  }

  register(adapter: IdpAdapter): void {
    this.adapters.set(adapter.type, adapter);
  }

  for(type: SsoConfigType): IdpAdapter {
    const adapter = this.adapters.get(type);
    if (!adapter) {
      throw new IdpError(
        'Single sign-on is not set up correctly for this organization.',
        `no identity-provider adapter for configuration type ${type}`,
        'misconfigured',
      );
    }
    return adapter;
  }
}
