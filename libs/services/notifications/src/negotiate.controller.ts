import { Controller, HttpCode, Post, Query } from '@nestjs/common';
import { Public } from '@keyhaven/platform-auth';
import { negotiateResponse, type NegotiateResponse } from '@keyhaven/signalr';

function version(query: Record<string, unknown>): number {
  const value = Number(query['negotiateVersion'] ?? 0);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

/** `POST /notifications/hub/negotiate`, for clients that negotiate (the access token is checked by the guard). */
@Controller('hub')
export class HubNegotiateController {
  @Post('negotiate')
  @HttpCode(200)
  negotiate(@Query() query: Record<string, unknown>): NegotiateResponse {
    return negotiateResponse(version(query));
  }
}

/** `POST /notifications/anonymous-hub/negotiate`: no token, as the hub itself. */
@Controller('anonymous-hub')
@Public()
export class AnonymousHubNegotiateController {
  @Post('negotiate')
  @HttpCode(200)
  negotiate(@Query() query: Record<string, unknown>): NegotiateResponse {
    return negotiateResponse(version(query));
  }
}
