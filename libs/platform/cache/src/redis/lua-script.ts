import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script sent by SHA (EVALSHA), falling back to EVAL once per server that hasn't cached it yet. */
export class LuaScript {
  private readonly sha: string;

  constructor(
    private readonly source: string,
    private readonly numKeys: number,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    if (keys.length !== this.numKeys) throw new Error(`script expects ${this.numKeys} keys, got ${keys.length}`);
    try {
      return await client.evalsha(this.sha, this.numKeys, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
      return client.eval(this.source, this.numKeys, ...keys, ...args);
    }
  }
}
