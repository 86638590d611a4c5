import { Inject, Injectable } from '@nestjs/common';
import { PushPublisher } from '@keyhaven/bus';
import { EventType, PushType, badRequest, notFound } from '@keyhaven/contracts';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, EventRecorder } from '@keyhaven/db';
import {
  AccountRevisionService,
  ExternalAccountsService,
  UserRepository,
  type SetInitialPasswordRequest,
} from '@keyhaven/domain-auth';
import { PolicyType } from '../enums';
import { MemberRepository } from '../member.repository';
import { PoliciesService } from '../policies.service';
import { PolicyRepository } from '../policy.repository';
import { IdpAdapterRegistry } from './idp-adapter.registry';
import {
  MemberDecryptionType,
  SsoConfigType,
  configTypeOf,
  decryptionTypeOf,
  ssoUrls,
  type SsoConfig,
  type SsoConfigData,
  type SsoConfigRequest,
} from './sso-config';
import { SsoConfigRepository } from './sso-config.repository';
import { SsoUserRepository } from './sso-user.repository';

const KC_NEEDS_SINGLE_ORG = 'Key Connector requires the Single Organization policy to be enabled.';
const KC_NEEDS_REQUIRE_SSO = 'Key Connector requires the Single Sign-On Authentication policy to be enabled.';
const KC_NEEDS_SSO = 'You must enable SSO to use Key Connector.';
const KC_IN_USE = 'Key Connector cannot be disabled at this moment.';

const identifierInUse = () =>
  badRequest('Organization identifier is already in use.', { identifier: ['Already in use.'] });
/** What the members' profiles show of a configuration (§1.9), to push only when it changed. */
const profileStateOf = (c: SsoConfig | null): string =>
  JSON.stringify([c?.enabled ?? false, c?.memberDecryptionType ?? null, c?.data.keyConnectorUrl ?? null]);

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
    private readonly policyService: PoliciesService,
    private readonly revisions: AccountRevisionService,
    private readonly push: PushPublisher,
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
    const decryption = decryptionTypeOf(data.memberDecryptionType);
    const [before, identifierBefore] = await Promise.all([
      this.configs.findByOrganization(organizationId),
      this.links.identifierOf(organizationId),
    ]);
    // Everything that can refuse the save is checked before the policies below change anything.
    if (data.configType !== (SsoConfigType.None as number))
      await this.validateWithAdapter(organizationId, request, data);
    if (await this.links.identifierTaken(organizationId, identifier)) throw identifierInUse();
    await this.assertDecryptionChangeAllowed(organizationId, request.enabled, before, decryption);
    // As Bitwarden (ENTERPRISE.md §2.3): trusted-device encryption turns on the policies it relies on,
    // each through the policies service (its event 1700, its revocations, its pushes), before the save.
    if (decryption === MemberDecryptionType.TrustedDeviceEncryption)
      await this.enableTrustedDevicePolicies(organizationId);
    const changed = await this.db.transaction(async () => {
      if (!(await this.links.setIdentifier(organizationId, identifier))) throw identifierInUse();
      await this.configs.save(organizationId, request.enabled, data);
      const saved = await this.configs.findByOrganization(organizationId);
      await this.recordChanges(organizationId, before, saved);
      const profileChanged = profileStateOf(before) !== profileStateOf(saved) || identifier !== identifierBefore;
      // `bw sync` compares the account revision date before it fetches the profile again.
      if (profileChanged) await this.revisions.touchOrganizationMembers(organizationId);
      return profileChanged;
    });
    // The members' profiles carry the SSO state (§1.9): their clients re-read their organizations.
    if (changed) this.push.publishToUsers(PushType.SyncOrganizations, await this.members.userIdsOf(organizationId));
    return this.get(organizationId);
  }

  /** The IdP adapter's own checks (a SAML certificate that does not parse, …) on the configuration to be stored. */
  private async validateWithAdapter(organizationId: string, request: SsoConfigRequest, data: SsoConfigData) {
    const candidate: SsoConfig = {
      id: organizationId,
      organizationId,
      enabled: request.enabled,
      type: configTypeOf(data.configType),
      memberDecryptionType: decryptionTypeOf(data.memberDecryptionType),
      data,
      revisionDate: new Date(),
    };
    try {
      await this.adapters.for(candidate.type).validate?.(candidate);
    } catch (err) {
      throw badRequest(err instanceof Error ? err.message : 'The configuration is not valid.');
    }
  }

  /**
   * Key Connector needs the Single Organization and Require SSO policies on and SSO enabled (checked
   * in that order, as Bitwarden); leaving Key Connector is refused while a member unlocks with it, since
   * that member has no master password to fall back on.
   */
  private async assertDecryptionChangeAllowed(
    organizationId: string,
    enabled: boolean,
    before: SsoConfig | null,
    decryption: MemberDecryptionType,
  ): Promise<void> {
    if (decryption === MemberDecryptionType.KeyConnector) {
      const [singleOrg, requireSso] = await Promise.all([
        this.policyService.find(organizationId, PolicyType.SingleOrg),
        this.policyService.find(organizationId, PolicyType.RequireSso),
      ]);
      if (!singleOrg?.enabled) throw badRequest(KC_NEEDS_SINGLE_ORG);
      if (!requireSso?.enabled) throw badRequest(KC_NEEDS_REQUIRE_SSO);
      if (!enabled) throw badRequest(KC_NEEDS_SSO);
      return;
    }
    if (
      before?.memberDecryptionType === MemberDecryptionType.KeyConnector &&
      (await this.links.anyMemberUsesKeyConnector(organizationId))
    ) {
      throw badRequest(KC_IN_USE);
    }
  }

  /** Single Organization, Account recovery with automatic enrolment, Require SSO: only those not already so. */
  private async enableTrustedDevicePolicies(organizationId: string): Promise<void> {
    const singleOrg = await this.policyService.find(organizationId, PolicyType.SingleOrg);
    if (!singleOrg?.enabled) await this.policyService.save(organizationId, PolicyType.SingleOrg, { enabled: true });
    const recovery = await this.policyService.find(organizationId, PolicyType.ResetPassword);
    if (!recovery?.enabled || recovery.data?.['autoEnrollEnabled'] !== true) {
      await this.policyService.save(organizationId, PolicyType.ResetPassword, {
        enabled: true,
        data: { ...(recovery?.data ?? {}), autoEnrollEnabled: true },
      });
    }
    const requireSso = await this.policyService.find(organizationId, PolicyType.RequireSso);
    if (!requireSso?.enabled) await this.policyService.save(organizationId, PolicyType.RequireSso, { enabled: true });
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
