import { Module } from '@nestjs/common';
import { OutboundModule } from '@keyhaven/outbound';
import { IconsController } from './icons.controller';
import { IconsService } from './icons.service';

/** The icons service: mounted under `/icons` both in the all-in-one server and as its own app. */
@Module({ imports: [OutboundModule], controllers: [IconsController], providers: [IconsService] })
export class IconsServiceModule {}
