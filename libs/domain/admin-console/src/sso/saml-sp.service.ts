import { Inject, Injectable, Logger } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { EventType } from '@keyhaven/contracts';
import { EventRecorder } from '@keyhaven/db';
import { OrganizationRepository } from '../organization.repository';
import type { IdpCallbackRequest } from './idp-adapter';
import { SamlIdpAdapter } from './saml-idp.adapter';
import { SsoConfigType } from './sso-config';
import { SsoConfigRepository } from './sso-config.repository';
import { SsoLoginService, type SsoPageResult } from './sso-login.service';
import { SsoPendingRepository } from './sso-pending.repository';
import { SsoUserRepository } from './sso-user.repository';

const refused = (message: string): SsoPageResult => ({ kind: 'error', status: 400, message });

/**
 * The service-provider endpoints under `/sso/saml2/{orgId}` that `urls` advertises: the metadata
 * document and the Assertion Consumer Service. The ACS refuses what can be refused without the
 * flow (artifact binding, no pending sign-in for the RelayState, another organization's flow) with
 * a page for the user and a log line for the admin, and hands the rest to the same completion path
 * as OIDC (`SsoLoginService.completeCallback`), where the adapter verifies the response.
 */
@Injectable()
export class SamlSpService {
  private readonly log = new Logger('sso');

  constructor(
    private readonly sso: SsoLoginService,
    private readonly adapter: SamlIdpAdapter,
    private readonly configs: SsoConfigRepository,
    private readonly organizations: OrganizationRepository,
    private readonly pending: SsoPendingRepository,
    private readonly events: EventRecorder,
    private readonly links: SsoUserRepository,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** The SP metadata XML, or null for an organization that does not exist. */
  async metadata(organizationId: string): Promise<string | null> {
    if (!(await this.organizations.findById(organizationId))) return null;
    const config = await this.configs.findByOrganization(organizationId);
    return await this.adapter.metadata(organizationId, config?.type === SsoConfigType.Saml2 ? config.data : null);
  }

  async acs(organizationId: string, request: IdpCallbackRequest): Promise<SsoPageResult> {
    const relayState = request.body['RelayState'] ?? request.query['RelayState'] ?? '';
    const flow = relayState ? await this.pending.get<{ organizationId: string }>('flow', relayState) : null;
    // The ACS is anonymous: only a refusal within a sign-in someone started here goes in the organization's
    // event log, so that anyone posting garbage cannot fill it (the admin's log line is written either way).
    const started = flow?.organizationId === organizationId;
    if (request.body['SAMLart'] !== undefined || request.query['SAMLart'] !== undefined) {
      return this.refuse(
        organizationId,
        'artifact binding (SAMLart) is not supported',
        'This sign-in method is not supported.',
        started,
      );
    }
    if (!request.body['SAMLResponse']) {
      return this.refuse(
        organizationId,
        'no SAMLResponse in the request',
        'The identity provider sent no answer.',
        started,
      );
    }
    if (!flow && (await this.idpInitiatedAllowed(organizationId, request.body['SAMLResponse']))) {
      // An IdP dashboard tile: nothing is granted from this response. The web vault's SSO page starts
      // an SP-initiated sign-in for the organization, which the IdP's open session completes at once.
      const identifier = await this.links.identifierOf(organizationId);
      if (identifier) {
        this.log.log(
          `SSO for organization ${organizationId}: IdP-initiated SAML response, sent to the web vault's SSO page`,
        );
        return { kind: 'redirect', url: `${this.config.DOMAIN}/#/sso?identifier=${encodeURIComponent(identifier)}` };
      }
    }
    if (!flow || flow.organizationId !== organizationId) {
      // Expired, already used (a replayed response), IdP-initiated, or started for another organization.
      return this.refuse(
        organizationId,
        `no pending sign-in for the RelayState (expired, replayed, unsolicited or for another organization)`,
        'This sign-in has expired or was already used, or was not started from the app. Start again from the app.',
        false,
      );
    }
    return this.sso.completeCallback(relayState, request);
  }

  private async idpInitiatedAllowed(organizationId: string, encoded: string): Promise<boolean> {
    const config = await this.configs.findByOrganization(organizationId);
    return (
      config?.enabled === true &&
      config.type === SsoConfigType.Saml2 &&
      config.data.idpAllowUnsolicitedAuthnResponse === true &&
      this.adapter.isUnsolicited(encoded)
    );
  }

  private async refuse(
    organizationId: string,
    detail: string,
    message: string,
    recordEvent: boolean,
  ): Promise<SsoPageResult> {
    this.log.warn(`SSO for organization ${organizationId} failed (rejected): SAML response refused: ${detail}`);
    if (recordEvent && (await this.organizations.findById(organizationId))) {
      await this.events.record({ type: EventType.User_FailedLogIn, organizationId, actingUserId: null });
    }
    return refused(message);
  }
}
