import 'reflect-metadata';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod, type DynamicModule, type Type } from '@nestjs/common';
import type { MountedService } from '@keyhaven/runtime';

/** One route the all-in-one registers: method and path template (`/api/ciphers/:id`). */
export interface RouteSpec {
  readonly method: string;
  readonly path: string;
  /** The names of its `:params`, in order. */
  readonly params: readonly string[];
}

type ModuleRef = Type | DynamicModule | Promise<DynamicModule> | { forwardRef: () => unknown } | undefined;

function isDynamic(ref: ModuleRef): ref is DynamicModule {
  return typeof ref === 'object' && 'module' in ref;
}

function asArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [''];
}

function join(...parts: string[]): string {
  const path = parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/');
  return `/${path}`;
}

/**
 * Every route of the services, read from the same Nest metadata the application registers them from
 * (each service module's controllers and those of the modules it imports, under the service prefix),
 * so a route added to any controller is fuzzed without touching the suite.
 */
export function discoverRoutes(services: readonly MountedService[]): RouteSpec[] {
  const routes = new Map<string, RouteSpec>();
  for (const service of services) {
    const seen = new Set<unknown>();
    const visit = (ref: ModuleRef): void => {
      if (!ref || ref instanceof Promise || 'forwardRef' in ref) return;
      const type = isDynamic(ref) ? ref.module : ref;
      if (seen.has(ref) || seen.has(type)) return;
      seen.add(ref);
      seen.add(type);
      const controllers = [
        ...((Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, type) as Type[] | undefined) ?? []),
        ...(isDynamic(ref) ? (ref.controllers ?? []) : []),
      ];
      for (const controller of controllers) {
        const bases = asArray(Reflect.getMetadata(PATH_METADATA, controller));
        const proto = controller.prototype as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = proto[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
          if (method === undefined) continue;
          for (const base of bases) {
            for (const sub of asArray(Reflect.getMetadata(PATH_METADATA, handler))) {
              const path = join(service.prefix, base, sub);
              const verb = RequestMethod[method];
              const params = [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] ?? '');
              routes.set(`${verb} ${path}`, { method: verb, path, params });
            }
          }
        }
      }
      const imports = [
        ...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, type) as ModuleRef[] | undefined) ?? []),
        ...(isDynamic(ref) ? ((ref.imports ?? []) as ModuleRef[]) : []),
      ];
      for (const imported of imports) visit(imported);
    };
    visit(service.module);
  }
  return [...routes.values()].sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

/**
 * A digest of every row of every table; failed-login bookkeeping, last-seen and last-activity times
 * excluded. Events move from the outbox to the event table in the background, so they count by id
 * wherever they are (a refused request must record none); the streaming jobs' positions and the job
 * scheduler's run records are theirs.
 */
export async function wholeDatabaseFingerprintSql(rows: <T>(text: string) => Promise<T[]>): Promise<string> {
  const tables = await rows<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const IGNORED: Record<string, string[]> = {
    app_user: ['failed_login_count', 'last_failed_login_at', 'last_activity_date'],
    device: ['last_seen_at'],
    siem_webhook: [
      'cursor_xid',
      'cursor_seq',
      'failed_attempts',
      'next_attempt_at',
      'delivered_count',
      'last_delivery_at',
      'last_failure_at',
      'last_failure',
    ],
  };
  // Bookkeeping of background work: the streaming jobs' positions, and which period each scheduled job last ran.
  const BACKGROUND = new Set(['event_stream_cursor', 'job_run']);
  const EVENT_TABLES = new Set(['event', 'event_outbox']);
  const parts = tables.flatMap(({ table_name: name }) => {
    if (BACKGROUND.has(name)) return [];
    if (EVENT_TABLES.has(name)) return [`SELECT 'event:' || t.id::text AS r FROM "${name}" t`];
    const minus = (IGNORED[name] ?? []).map((c) => ` - '${c}'`).join('');
    return [`SELECT '${name}:' || (to_jsonb(t)${minus})::text AS r FROM "${name}" t`];
  });
  return `SELECT md5(coalesce(string_agg(r, '|' ORDER BY r), '')) AS digest FROM (${parts.join(' UNION ALL ')}) s`;
}
