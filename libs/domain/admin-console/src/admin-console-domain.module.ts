import { Module } from '@nestjs/common';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { CollectionRepository } from './collection.repository';
import { CollectionsService } from './collections.service';
import { GroupRepository } from './group.repository';
import { GroupsService } from './groups.service';
import { MemberRepository } from './member.repository';
import { MembersService } from './members.service';
import { OrgAccess } from './org-access';
import { OrganizationRepository } from './organization.repository';
import { OrganizationsService } from './organizations.service';
import { PoliciesService } from './policies.service';
import { PolicyRepository } from './policy.repository';

const providers = [
  CollectionRepository,
  CollectionsService,
  GroupRepository,
  GroupsService,
  MemberRepository,
  MembersService,
  OrgAccess,
  OrganizationRepository,
  OrganizationsService,
  PoliciesService,
  PolicyRepository,
];

/** Organizations, members, collections, groups and policies. */
@Module({ imports: [AuthDomainModule], providers, exports: providers })
export class AdminConsoleDomainModule {}
