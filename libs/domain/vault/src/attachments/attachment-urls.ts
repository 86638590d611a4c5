import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { ServerSecrets } from '@keyhaven/domain-auth';
import { BlobUrlSigner } from '@keyhaven/storage';
import { attachmentBlobKey, type AttachmentView, type StoredAttachment } from './attachment';

/** Download links live five minutes (the client fetches right after asking; sync mints new ones). */
export const DOWNLOAD_LINK_TTL_MS = 5 * 60 * 1000;

/**
 * Anonymous download links served by Keyhaven itself: `{DOMAIN}/api/attachments/{cipher}/{id}?token=…`,
 * the token an HMAC over the blob key and expiry under a server secret every instance shares.
 */
@Injectable()
export class AttachmentUrls implements OnModuleInit {
  private signer: BlobUrlSigner | undefined;

  constructor(
    private readonly secrets: ServerSecrets,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** At boot, outside any transaction (ServerSecrets creates the key on first use). */
  async onModuleInit(): Promise<void> {
    this.signer = new BlobUrlSigner(await this.secrets.hmac('blob-url', 'attachment-downloads'));
  }

  downloadUrl(cipherId: string, id: string): string {
    const token = this.ready().sign(attachmentBlobKey(cipherId, id), DOWNLOAD_LINK_TTL_MS);
    return `${this.config.DOMAIN}/api/attachments/${cipherId}/${id}?token=${token}`;
  }

  verify(cipherId: string, id: string, token: string | undefined): boolean {
    return this.ready().verify(attachmentBlobKey(cipherId, id), token);
  }

  /** A pending file's link answers 404 until the file arrives, like a deleted one's. */
  view(a: StoredAttachment): AttachmentView {
    return { ...a, url: this.downloadUrl(a.cipherId, a.id) };
  }

  private ready(): BlobUrlSigner {
    if (!this.signer) throw new Error('AttachmentUrls used before the module was initialised');
    return this.signer;
  }
}
