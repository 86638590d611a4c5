import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { notFound } from '@keyhaven/contracts';

/** With BILLING=off every billing route answers 404, exactly like a route that does not exist. */
@Injectable()
export class BillingSwitch {
  constructor(@Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig) {}

  get on(): boolean {
    return this.config.BILLING === 'stripe';
  }

  require(): void {
    if (!this.on) throw notFound('Resource');
  }
}
