/**
 * The clients of the HA tests: writers that create and edit items at a steady, bounded rate and record what was
 * acknowledged, so the database can be checked afterwards. A failed attempt (no answer, or 5xx) is retried once;
 * each attempt of a create carries its own name, so an attempt that landed without an answer is recognisable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { inheritedEnvironment } from '@keyhaven/config';
import { HttpClient, passwordLogin, repoRoot, type BwCli } from '@keyhaven/testing';
import { encryptCipher, type Account } from '@keyhaven/vault-crypto';

export interface Write {
  readonly writer: string;
  readonly kind: 'create' | 'update' | 'login';
  readonly itemId: string | undefined;
  /** The name each attempt sent (a create's attempts differ; an update resends the same). */
  readonly names: string[];
  readonly statuses: (number | string)[];
  /** The attempt that got a 2xx (0 or 1), or undefined. */
  acked: number | undefined;
  /** What the acknowledged attempt stored, as the database holds it (API writers: the EncString sent). */
  stored?: string;
}

export interface WriterStats {
  readonly ops: number;
  readonly acked: number;
  /** Operations whose first attempt failed (then retried once). */
  readonly retried: number;
  /** Operations that failed twice. */
  readonly failed: number;
}

/** Done: acknowledged, or failed twice (a write still in flight has neither). */
export const settled = (w: Write): boolean => w.acked !== undefined || w.statuses.length === 2;

export function statsOf(writes: readonly Write[]): WriterStats {
  const done = writes.filter(settled);
  return {
    ops: done.length,
    acked: done.filter((w) => w.acked !== undefined).length,
    retried: done.filter((w) => w.statuses.length > 1).length,
    failed: done.filter((w) => w.acked === undefined).length,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A loop that runs `step` every `intervalMs` (steady, never faster) until stopped or `maxOps` reached. */
export abstract class Writer {
  readonly writes: Write[] = [];
  private running: Promise<void> | undefined;
  private stopping = false;
  protected seq = 0;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly maxOps = 5000,
  ) {}

  start(): void {
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping && this.seq < this.maxOps) {
        const started = Date.now();
        this.seq++;
        await this.step();
        await sleep(Math.max(0, this.intervalMs - (Date.now() - started)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Writes since index `from` (a phase's share). */
  since(from: number): Write[] {
    return this.writes.slice(from);
  }

  /** Item ids acknowledged as created, with the name of their latest acknowledged write. */
  latest(): Map<string, Write> {
    const out = new Map<string, Write>();
    for (const w of this.writes) if (w.acked !== undefined && w.itemId) out.set(w.itemId, w);
    return out;
  }

  protected abstract step(): Promise<void>;

  /** Two attempts at most; `attempt` answers the status and, on success, the item id and what was stored. */
  protected async twice(
    kind: Write['kind'],
    itemId: string | undefined,
    nameFor: (attempt: number) => string,
    attempt: (name: string) => Promise<{ status: number | string; id?: string; stored?: string }>,
  ): Promise<Write> {
    const write: Write = { writer: this.name, kind, itemId, names: [], statuses: [], acked: undefined };
    this.writes.push(write);
    for (let i = 0; i < 2; i++) {
      const name = nameFor(i);
      write.names.push(name);
      let result: { status: number | string; id?: string; stored?: string };
      try {
        result = await attempt(name);
      } catch (error) {
        result = { status: error instanceof Error ? error.message.slice(0, 60) : 'error' };
      }
      write.statuses.push(result.status);
      if (typeof result.status === 'number' && result.status >= 200 && result.status < 300) {
        write.acked = i;
        if (result.stored !== undefined) write.stored = result.stored;
        if (result.id) (write as { itemId: string | undefined }).itemId = result.id;
        return write;
      }
    }
    return write;
  }

  /** The next operation: a create, or an edit of one of this writer's acknowledged items (every third). */
  protected pick(): string | undefined {
    const ids = [...this.latest().keys()];
    return this.seq % 3 === 0 && ids.length > 0 ? ids[this.seq % ids.length] : undefined;
  }
}

/** A client of the API through nginx: POST /api/ciphers and PUT /api/ciphers/{id} with real EncStrings. */
export class ApiWriter extends Writer {
  constructor(
    name: string,
    private readonly http: HttpClient,
    private readonly account: Account,
    private readonly token: string,
    intervalMs: number,
  ) {
    super(name, intervalMs);
  }

  protected async step(): Promise<void> {
    const target = this.pick();
    const seq = this.seq;
    const body = (name: string): ReturnType<typeof encryptCipher> =>
      encryptCipher(this.account.userKey, { type: 2, name, notes: `note ${String(seq)}`, secureNote: { type: 0 } });
    if (target === undefined) {
      await this.twice(
        'create',
        undefined,
        (a) => `${this.name}-c${String(seq)}-a${String(a)}`,
        async (name) => {
          const json = body(name);
          const res = await this.http.post<{ id?: string }>('/api/ciphers', { json, token: this.token });
          return { status: res.status, id: res.body.id, stored: String(json.name) };
        },
      );
    } else {
      const name = `${this.name}-u${String(seq)}`;
      const json = body(name);
      await this.twice(
        'update',
        target,
        () => name,
        async () => {
          const res = await this.http.put(`/api/ciphers/${target}`, { json, token: this.token });
          return { status: res.status, stored: String(json.name) };
        },
      );
    }
  }
}

/** Prelogin and a password login through nginx (the identity instances), at a steady rate. */
export class LoginClient extends Writer {
  constructor(
    name: string,
    private readonly http: HttpClient,
    private readonly account: Account,
    intervalMs: number,
  ) {
    super(name, intervalMs);
  }

  protected async step(): Promise<void> {
    await this.twice(
      'login',
      undefined,
      () => 'login',
      async () => {
        const pre = await this.http.post('/identity/accounts/prelogin', { json: { email: this.account.email } });
        if (pre.status !== 200) return { status: pre.status };
        return { status: (await passwordLogin(this.http, this.account)).accessToken ? 200 : 500 };
      },
    );
  }
}

const BW_ENTRY = join(repoRoot, 'node_modules', '@bitwarden', 'cli', 'build', 'bw.js');

interface ServeAnswer<T> {
  success: boolean;
  message?: string;
  data?: T;
}

/**
 * A real `bw` CLI user, logged in and unlocked, driven through `bw serve` (the CLI's own local REST API, one
 * long-lived process per user) rather than a process per command, which would take the machine's two cores.
 */
export class BwServeWriter extends Writer {
  private child: ChildProcess | undefined;
  private local: HttpClient | undefined;

  constructor(
    name: string,
    private readonly bw: BwCli,
    private readonly caPath: string,
    intervalMs: number,
  ) {
    super(name, intervalMs);
  }

  async serve(port: number): Promise<void> {
    const env: Record<string, string> = {
      ...inheritedEnvironment([]),
      BITWARDENCLI_APPDATA_DIR: this.bw.appDataDir,
      BW_NOINTERACTION: 'true',
      NODE_EXTRA_CA_CERTS: this.caPath,
      BW_SESSION: this.bw.session ?? '',
    };
    this.child = spawn(
      process.execPath,
      ['--no-deprecation', BW_ENTRY, 'serve', '--hostname', '127.0.0.1', '--port', String(port)],
      { env, stdio: 'ignore' },
    );
    this.local = new HttpClient(`http://127.0.0.1:${String(port)}`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await this.local.get('/status')).status === 200) return;
      } catch {
        // not listening yet
      }
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`bw serve (${this.name}) did not start`);
      await sleep(250);
    }
  }

  async call<T>(method: string, path: string, json?: unknown): Promise<{ status: number; body: ServeAnswer<T> }> {
    if (!this.local) throw new Error('bw serve is not running');
    const res = await this.local.request<ServeAnswer<T>>(method, path, json === undefined ? {} : { json });
    // bw serve answers 400 with success:false when the server call failed.
    return { status: res.body.success ? res.status : 502, body: res.body };
  }

  protected async step(): Promise<void> {
    const target = this.pick();
    const seq = this.seq;
    const item = (name: string): Record<string, unknown> => ({
      type: 2,
      name,
      notes: `bw note ${String(seq)}`,
      secureNote: { type: 0 },
    });
    if (target === undefined) {
      await this.twice(
        'create',
        undefined,
        (a) => `${this.name}-c${String(seq)}-a${String(a)}`,
        async (name) => {
          const res = await this.call<{ id: string }>('POST', '/object/item', item(name));
          return { status: res.status, ...(res.body.data?.id ? { id: res.body.data.id } : {}) };
        },
      );
    } else {
      const name = `${this.name}-u${String(seq)}`;
      await this.twice(
        'update',
        target,
        () => name,
        async () => ({ status: (await this.call('PUT', `/object/item/${target}`, item(name))).status }),
      );
    }
  }

  /**
   * Every item of the vault as a fresh `bw` process decrypts it after a forced sync: id → name. Ends `bw serve`
   * first. Not read through `bw serve`: its in-memory view sometimes loses items a few seconds after a sync
   * (measured with a logging proxy: the server's sync answered every item and the CLI's data file held them,
   * yet `bw serve` answered "Not found" for them; one user in four, right after the CLI's own background
   * key-id backfill and sync at start-up). A long-lived CLI process is not a faithful reader of the vault.
   */
  async vault(): Promise<Map<string, string>> {
    await this.close();
    await this.bw.ok(['sync', '--force']);
    const items = await this.bw.json<{ id: string; name: string }[]>(['list', 'items']);
    return new Map(items.map((i) => [i.id, i.name]));
  }

  /** Stops writing and ends `bw serve`, waiting for it to exit (so its data file is complete). Idempotent. */
  async close(): Promise<void> {
    await this.stop();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((done) =>
      child.once('exit', () => {
        done();
      }),
    );
    child.kill('SIGTERM');
    await exited;
  }
}
