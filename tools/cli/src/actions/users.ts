import {
  OffboardingService,
  OperatorDirectory,
  type OffboardingResult,
  type OperatorUser,
} from '@keyhaven/domain-admin-console';
import { callServer } from '../admin-api';
import { CliError, EXIT, print, type ServerOptions } from '../context';
import { withDomain } from '../domain';

export interface UsersOptions extends ServerOptions {
  readonly json?: boolean;
}

export interface UsersListOptions extends UsersOptions {
  readonly search?: string;
}

const line = (
  u: Pick<OperatorUser, 'email' | 'enabled' | 'twoFactorEnabled' | 'lastActive' | 'organizations'>,
): string =>
  `${u.email}\t${u.enabled ? 'enabled' : 'disabled'}\t2fa:${u.twoFactorEnabled ? 'on' : 'off'}\tlast active:${u.lastActive ?? '-'}\torgs:${u.organizations.length}`;

export async function runUsersList(options: UsersListOptions): Promise<void> {
  const list: unknown[] = options.server
    ? (JSON.parse(
        (
          await callServer(
            options,
            'GET',
            `users${options.search ? `?search=${encodeURIComponent(options.search)}` : ''}`,
          )
        ).body,
      ) as unknown[])
    : await withDomain((app) => app.get(OperatorDirectory).users(options.search ?? null, 100_000));
  print(options.json === true, list, () =>
    (list as (Parameters<typeof line>[0] & { userEnabled?: boolean })[])
      .map((u) => line({ ...u, enabled: u.userEnabled ?? u.enabled }))
      .join('\n'),
  );
}

export async function runOffboard(email: string, options: UsersOptions): Promise<void> {
  let result: OffboardingResult;
  if (options.server) {
    const found = JSON.parse((await callServer(options, 'GET', `users/by-mail/${encodeURIComponent(email)}`)).body) as {
      id: string;
    };
    result = JSON.parse((await callServer(options, 'POST', `users/${found.id}/offboard`)).body) as OffboardingResult;
  } else {
    result = await withDomain(async (app) => {
      const user = await app.get(OperatorDirectory).userByEmail(email);
      if (!user) throw new CliError(`no account ${email}`, EXIT.notFound);
      return app.get(OffboardingService).offboard(user.id);
    });
  }
  print(options.json === true, result, () =>
    [
      result.alreadyOffboarded
        ? `${result.email}: already offboarded, nothing left to do`
        : `${result.email}: offboarded`,
      `  disabled: ${result.disabled ? 'yes' : 'was already'}`,
      `  revoked from: ${result.revokedFrom.map((r) => r.organizationName).join(', ') || 'none left'}`,
      `  sessions ended: ${result.sessionsEnded}`,
    ].join('\n'),
  );
}
