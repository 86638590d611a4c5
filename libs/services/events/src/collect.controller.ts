import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { z } from 'zod';
import { parseBody, guid } from '@keyhaven/contracts';

const eventsSchema = z
  .array(
    z.object({
      type: z.number().int(),
      cipherId: guid.nullish(),
      organizationId: guid.nullish(),
      date: z.string().nullish(),
    }),
  )
  .max(1000);

/**
 * `POST events/collect`: clients upload what they observed (exports, item views). Accepted and
 * validated so clients stop retrying; storing, querying and retention belong to the event-log work
 * and are not built yet.
 */
@Controller()
export class CollectController {
  @Post('collect')
  @HttpCode(200)
  collect(@Body() body: unknown): void {
    parseBody(eventsSchema, body);
  }
}
