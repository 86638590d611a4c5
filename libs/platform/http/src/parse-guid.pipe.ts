import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { parseGuid } from '@keyhaven/contracts';

/** Route ids: any 8-4-4-4-12 GUID, lower-cased; otherwise a 400 in Bitwarden's error shape. */
@Injectable()
export class ParseGuidPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    return parseGuid(value, metadata.data ?? 'id');
  }
}
