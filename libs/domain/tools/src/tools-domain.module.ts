import { Module } from '@nestjs/common';
import { PushPublisher } from '@keyhaven/bus';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { VaultDomainModule } from '@keyhaven/domain-vault';
import { SendAccessService } from './sends/send-access.service';
import { SendDeletionJob } from './sends/send-deletion.job';
import { SendBlobs } from './sends/send-blobs';
import { SendEvents } from './sends/send-events';
import { SendFieldsFactory } from './sends/send-fields';
import { SendPolicies } from './sends/send-policies';
import { SendPush } from './sends/send-push';
import { SendRepository } from './sends/send.repository';
import { SendStorage } from './sends/send-storage';
import { SendService } from './sends/send.service';
import { SendUploadService } from './sends/send-upload.service';
import { SyncWithSendsService } from './sync/sync-with-sends.service';

const services = [SendService, SendUploadService, SendAccessService, SendDeletionJob, SyncWithSendsService];
const internals = [
  SendRepository,
  SendBlobs,
  SendEvents,
  SendFieldsFactory,
  SendPolicies,
  SendPush,
  SendStorage,
  PushPublisher,
];

/** Sends (owner and recipient sides, the deletion job) and the sync that includes them. */
@Module({
  imports: [AuthDomainModule, AdminConsoleDomainModule, VaultDomainModule],
  providers: [...services, ...internals],
  exports: services,
})
export class ToolsDomainModule {}
