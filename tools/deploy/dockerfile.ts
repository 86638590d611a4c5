/** A small Dockerfile reader: instructions with their arguments, grouped into build stages. */

export interface Instruction {
  /** Upper-cased: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** The rest of the instruction, continuation lines joined with single spaces. */
  readonly rest: string;
  readonly line: number;
}

export interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export function parseDockerfile(source: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = source.split('\n');
  let current: { text: string; line: number } | undefined;
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    // Comments (and parser directives) only where an instruction could start.
    if (current === undefined && /^\s*#/.test(line)) return;
    if (current !== undefined && /^\s*#/.test(line)) return;
    if (current === undefined && line.trim() === '') return;
    const continued = /\\\s*$/.test(line);
    const body = continued ? line.replace(/\\\s*$/, '') : line;
    if (current === undefined) current = { text: body.trim(), line: index + 1 };
    else current.text += ` ${body.trim()}`;
    if (!continued) {
      const match = /^(\S+)\s*(.*)$/.exec(current.text);
      if (match)
        out.push({ keyword: (match[1] ?? '').toUpperCase(), rest: (match[2] ?? '').trim(), line: current.line });
      current = undefined;
    }
  });
  return out;
}

/** `ARG NAME=default` values declared before the first FROM, for resolving `FROM ${NAME}`. */
function globalArgs(instructions: readonly Instruction[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const i of instructions) {
    if (i.keyword === 'FROM') break;
    if (i.keyword !== 'ARG') continue;
    const m = /^(\w+)(?:=(.*))?$/.exec(i.rest);
    if (m?.[1] !== undefined) args.set(m[1], (m[2] ?? '').replace(/^"(.*)"$/, '$1'));
  }
  return args;
}

export function stages(instructions: readonly Instruction[]): Stage[] {
  const args = globalArgs(instructions);
  const out: Stage[] = [];
  for (const i of instructions) {
    if (i.keyword === 'FROM') {
      const parts = i.rest.split(/\s+/).filter((p) => !p.startsWith('--'));
      const image = (parts[0] ?? '').replace(/\$\{(\w+)\}|\$(\w+)/g, (_m: string, a?: string, b?: string) => {
        return args.get(a ?? b ?? '') ?? '';
      });
      const asIndex = parts.findIndex((p) => p.toUpperCase() === 'AS');
      out.push({ image, name: asIndex === -1 ? undefined : parts[asIndex + 1], instructions: [] });
    } else {
      out.at(-1)?.instructions.push(i);
    }
  }
  return out;
}

/** The JSON (exec) form of CMD, ENTRYPOINT, HEALTHCHECK CMD, or undefined for the shell form. */
export function execForm(rest: string): string[] | undefined {
  const json = rest.trim();
  if (!json.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((p): p is string => typeof p === 'string')) return undefined;
  return parsed;
}

/** ENV instructions' assignments in a stage (`ENV A=1 B=2` and the legacy `ENV A 1`). */
export function envOf(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of stage.instructions) {
    if (i.keyword !== 'ENV') continue;
    if (!i.rest.includes('=')) {
      const [name, ...value] = i.rest.split(/\s+/);
      if (name !== undefined) env.set(name, value.join(' '));
      continue;
    }
    for (const m of i.rest.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      if (m[1] !== undefined) env.set(m[1], (m[2] ?? '').replace(/^"(.*)"$/, '$1'));
    }
  }
  return env;
}

/** COPY/ADD sources that come from the build context (not `--from=` another stage). */
export function contextSources(stage: Stage): string[] {
  const sources: string[] = [];
  for (const i of stage.instructions) {
    if (i.keyword !== 'COPY' && i.keyword !== 'ADD') continue;
    const parts = i.rest.split(/\s+/);
    if (parts.some((p) => p.startsWith('--from='))) continue;
    const paths = parts.filter((p) => !p.startsWith('--'));
    sources.push(...paths.slice(0, -1));
  }
  return sources;
}

/** Whether a path of the build context is left out by .dockerignore patterns (last matching pattern wins). */
export function dockerIgnored(path: string, patterns: readonly string[]): boolean {
  let ignored = false;
  const normalized = path.replace(/^\.\//, '').replace(/\/$/, '');
  for (const raw of patterns) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = (negate ? line.slice(1) : line).replace(/^\//, '').replace(/\/$/, '');
    const regex = new RegExp(
      `^${pattern
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*')
        .replace(/\.\*\//g, '(?:.*/)?')}(?:/.*)?$`,
    );
    if (regex.test(normalized)) ignored = !negate;
  }
  return ignored;
}
