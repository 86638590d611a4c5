import { Inject, Injectable } from '@nestjs/common';
import { EventType, badRequest, notFound } from '@keyhaven/contracts';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, EventRecorder } from '@keyhaven/db';
import { ExternalAccountsService, UserRepository, type SetInitialPasswordRequest } from '@keyhaven/domain-auth';
import { PolicyType } from '../enums';
import { MemberRepository } from '../member.repository';
import { PolicyRepository } from '../policy.repository';
import { IdpAdapterRegistry } from './idp-adapter.registry';
import { MemberDecryptionType, SsoConfigType, ssoUrls, type SsoConfig, type SsoConfigRequest } from './sso-config';
import { SsoConfigRepository } from './sso-config.repository';
import { SsoUserRepository } from './sso-user.repository';

/** The SSO configuration routes (§2) and the SSO member's own steps (set-password, auto-enroll-status). */
@Injectable()
export class SsoSettingsService {
  constructor(
    private readonly db: Database,
    private readonly configs: SsoConfigRepository,
    private readonly links: SsoUserRepository,
    private readonly adapters: IdpAdapterRegistry,
    private readonly members: MemberRepository,
    private readonly policies: PolicyRepository,
    private readonly users: UserRepository,
    private readonly accounts: ExternalAccountsService,
    private readonly events: EventRecorder,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  async get(organizationId: string): Promise<Record<string, unknown>> {
    const [config, identifier] = await Promise.all([
      this.configs.findByOrganization(organizationId),
      this.links.identifierOf(organizationId),
    ]);
    return {
      enabled: config?.enabled ?? false,
      identifier,
      data: config ? config.data : null,
      urls: ssoUrls(`${this.config.DOMAIN}/sso`, organizationId),
      object: 'organizationSso',
    };
  }

  async save(organizationId: string, request: SsoConfigRequest): Promise<Record<string, unknown>> {
    const data = { ...request.data };
    if (data.keyConnectorEnabled) data.memberDecryptionType = MemberDecryptionType.KeyConnector;
    delete data.keyConnectorEnabled;
    if (
      data.configType === (SsoConfigType.OpenIdConnect as number) &&
      (!data.authority || !data.clientId || !data.clientSecret)
    ) {
      throw badRequest('Authority, client id and client secret are required.', {
        authority: data.authority ? [] : ['The Authority field is required.'],
        clientId: data.clientId ? [] : ['The Client Id field is required.'],
        clientSecret: data.clientSecret ? [] : ['The Client Secret field is required.'],
      });
    }
    if (data.configType === (SsoConfigType.Saml2 as number) && (!data.idpEntityId || !data.idpSingleSignOnServiceUrl)) {
      throw badRequest('The IdP entity id and single sign-on URL are required.', {
        idpEntityId: data.idpEntityId ? [] : ['The field is required.'],
        idpSingleSignOnServiceUrl: data.idpSingleSignOnServiceUrl ? [] : ['The field is required.'],
      });
    }
    if (request.enabled && data.configType === (SsoConfigType.None as number))
      throw badRequest('Choose OpenID Connect or SAML 2.0.');
    const identifier = request.identifier?.trim() || null;
    await this.db.transaction(async () => {
      if (!(await this.links.setIdentifier(organizationId, identifier))) {
        throw badRequest('Organization identifier is already in use.', { identifier: ['Already in use.'] });
      }
      const before = await this.configs.findByOrganization(organizationId);
      await this.configs.save(organizationId, request.enabled, data);
      const saved = await this.configs.findByOrganization(organizationId);
      await this.recordChanges(organizationId, before, saved);
      if (saved && data.configType !== (SsoConfigType.None as number)) {
        try {
          await this.adapters.for(saved.type).validate?.(saved);
        } catch (err) {
          throw badRequest(err instanceof Error ? err.message : 'The configuration is not valid.');
        }
      }
    });
    return this.get(organizationId);
  }

  /** Events 1604/1605 (SSO on/off) and 1606/1607 (Key Connector on/off), only for what changed. */
  private async recordChanges(organizationId: string, before: SsoConfig | null, after: SsoConfig | null) {
    const usesKeyConnector = (c: SsoConfig | null) => c?.memberDecryptionType === MemberDecryptionType.KeyConnector;
    const types: number[] = [];
    if ((before?.enabled ?? false) !== (after?.enabled ?? false)) {
      types.push(after?.enabled ? EventType.Organization_EnabledSso : EventType.Organization_DisabledSso);
    }
    if (usesKeyConnector(before) !== usesKeyConnector(after)) {
      types.push(
        usesKeyConnector(after)
          ? EventType.Organization_EnabledKeyConnector
          : EventType.Organization_DisabledKeyConnector,
      );
    }
    await this.events.record(types.map((type) => ({ type, organizationId })));
  }

  /**
   * `DELETE api/accounts/sso/{organizationId}`: the user removes their own IdP link (the web's "Unlink
   * SSO"); the next SSO login links again. Event 1505. Not linked, or not a member: 404.
   */
  async unlink(userId: string, organizationId: string): Promise<void> {
    const membership = await this.members.findByUser(organizationId, userId);
    if (!membership) throw notFound('Organization');
    await this.db.transaction(async () => {
      if (!(await this.links.unlink(organizationId, userId))) throw notFound('Organization');
      await this.events.record({
        type: EventType.OrganizationUser_UnlinkedSso,
        organizationId,
        organizationUserId: membership.id,
        userId,
        actingUserId: userId,
      });
    });
  }

  /** `GET api/organizations/{identifier}/auto-enroll-status`: 404 unless the caller is a member there. */
  async autoEnrollStatus(userId: string, identifier: string): Promise<Record<string, unknown>> {
    const org = await this.links.organizationByIdentifier(identifier);
    const membership = org ? await this.members.findByUser(org.id, userId) : null;
    if (!org || !membership) throw notFound('Organization');
    const policy = await this.policies.find(org.id, PolicyType.ResetPassword);
    return {
      id: org.id,
      resetPasswordEnabled: policy?.enabled === true && policy.data?.['autoEnrollEnabled'] === true,
      object: 'organizationAutoEnrollStatus',
    };
  }

  /** `POST api/accounts/set-password`: the first master password; accepts the Invited membership of `orgIdentifier`. */
  async setPassword(userId: string, body: SetInitialPasswordRequest): Promise<void> {
    const org = await this.links.organizationByIdentifier(body.orgIdentifier);
    if (!org) throw badRequest('Organization not found.', { orgIdentifier: ['Unknown organization identifier.'] });
    await this.db.transaction(async () => {
      const user = await this.users.require(userId);
      await this.accounts.setInitialPassword(user, body);
      await this.links.acceptInvited(org.id, userId);
    });
  }
}
