/**
 * A small reader for nginx configuration files: enough to check which locations exist, what they proxy to,
 * which headers reach the upstream (with nginx's inheritance rules), and what a `map` yields for a value.
 */

export interface Directive {
  readonly name: string;
  readonly args: string[];
  /** Children when the directive is a block (`server { ... }`), otherwise undefined. */
  readonly block?: Directive[];
  readonly line: number;
}

interface Token {
  readonly value: string;
  readonly quoted: boolean;
  readonly line: number;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  while (i < source.length) {
    const c = source.charAt(i);
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < source.length && source.charAt(i) !== '\n') i++;
    } else if (c === '{' || c === '}' || c === ';') {
      tokens.push({ value: c, quoted: false, line });
      i++;
    } else if (c === '"' || c === "'") {
      const start = line;
      let value = '';
      i++;
      while (i < source.length && source.charAt(i) !== c) {
        if (source.charAt(i) === '\\' && i + 1 < source.length) {
          // As nginx reads quoted strings: \" \' \\ lose the backslash, \t \r \n are control characters,
          // and any other escape (a regex's `\?`) is kept as written.
          const next = source.charAt(i + 1);
          const control: Record<string, string> = { t: '\t', r: '\r', n: '\n' };
          value += next === '"' || next === "'" || next === '\\' ? next : (control[next] ?? `\\${next}`);
          i += 2;
          continue;
        }
        if (source.charAt(i) === '\n') line++;
        value += source.charAt(i);
        i++;
      }
      if (i >= source.length) throw new Error(`line ${start}: unterminated string`);
      i++;
      tokens.push({ value, quoted: true, line: start });
    } else {
      let value = '';
      while (i < source.length && !/[\s{};]/.test(source.charAt(i))) {
        // `${name}` inside a bare word is a variable, not a block.
        if (source.charAt(i) === '$' && source.charAt(i + 1) === '{') {
          const close = source.indexOf('}', i);
          if (close === -1) throw new Error(`line ${line}: unterminated \${`);
          value += source.slice(i, close + 1);
          i = close + 1;
          continue;
        }
        value += source.charAt(i);
        i++;
      }
      tokens.push({ value, quoted: false, line });
    }
  }
  return tokens;
}

/** Parses a configuration file into its directives; throws on unbalanced braces or a missing `;`. */
export function parseNginx(source: string): Directive[] {
  const tokens = tokenize(source);
  let pos = 0;
  const parseBlock = (closing: boolean): Directive[] => {
    const out: Directive[] = [];
    for (;;) {
      const token = tokens[pos];
      if (token === undefined) {
        if (closing) throw new Error('unexpected end of file: missing }');
        return out;
      }
      if (!token.quoted && token.value === '}') {
        if (!closing) throw new Error(`line ${token.line}: unexpected }`);
        pos++;
        return out;
      }
      if (!token.quoted && (token.value === '{' || token.value === ';')) {
        throw new Error(`line ${token.line}: unexpected ${token.value}`);
      }
      const name = token.value;
      const line = token.line;
      pos++;
      const args: string[] = [];
      for (;;) {
        const next = tokens[pos];
        if (next === undefined) throw new Error(`line ${line}: directive ${name} is not terminated`);
        pos++;
        if (!next.quoted && next.value === ';') {
          out.push({ name, args, line });
          break;
        }
        if (!next.quoted && next.value === '{') {
          out.push({ name, args, line, block: parseBlock(true) });
          break;
        }
        if (!next.quoted && next.value === '}') throw new Error(`line ${next.line}: missing ; before }`);
        args.push(next.value);
      }
    }
  };
  return parseBlock(false);
}

export function directives(scope: readonly Directive[], name: string): Directive[] {
  return scope.filter((d) => d.name === name);
}

export function blocks(scope: readonly Directive[], name: string): (Directive & { block: Directive[] })[] {
  return scope.filter((d): d is Directive & { block: Directive[] } => d.name === name && d.block !== undefined);
}

/**
 * The directives named `name` that apply in `chain` (outermost first): nginx array-type directives such as
 * proxy_set_header and add_header are inherited from the enclosing level only when the inner level has none.
 */
export function effective(chain: readonly (readonly Directive[])[], name: string): Directive[] {
  for (let i = chain.length - 1; i >= 0; i--) {
    const scope = chain[i];
    if (scope === undefined) continue;
    const found = directives(scope, name);
    if (found.length > 0) return found;
  }
  return [];
}

/** The headers proxy_set_header sends upstream in the innermost scope of `chain`, by lower-cased name. */
export function proxyHeaders(chain: readonly (readonly Directive[])[]): Map<string, string> {
  const headers = new Map<string, string>();
  for (const d of effective(chain, 'proxy_set_header')) {
    const [header, value] = d.args;
    if (header !== undefined) headers.set(header.toLowerCase(), value ?? '');
  }
  return headers;
}

export interface Location {
  readonly modifier: '' | '=' | '~' | '~*' | '^~';
  readonly path: string;
  readonly directive: Directive & { block: Directive[] };
}

export function locations(server: readonly Directive[]): Location[] {
  return blocks(server, 'location').map((directive) => {
    const [first, second] = directive.args;
    if (second !== undefined) {
      return { modifier: first as Location['modifier'], path: second, directive };
    }
    return { modifier: '', path: first ?? '', directive };
  });
}

/** nginx's choice of location for a request path: exact, then longest prefix (unless ^~), then regexes in order. */
export function matchLocation(server: readonly Directive[], uri: string): Location | undefined {
  const all = locations(server);
  const exact = all.find((l) => l.modifier === '=' && l.path === uri);
  if (exact) return exact;
  const prefixes = all
    .filter((l) => (l.modifier === '' || l.modifier === '^~') && uri.startsWith(l.path))
    .sort((a, b) => b.path.length - a.path.length);
  const longest = prefixes[0];
  if (longest?.modifier === '^~') return longest;
  for (const l of all) {
    if (l.modifier === '~' && new RegExp(l.path).test(uri)) return l;
    if (l.modifier === '~*' && new RegExp(l.path, 'i').test(uri)) return l;
  }
  return longest;
}

/**
 * What `map $source $target { ... }` yields for a source value: exact strings, then regexes in order, then
 * default. Variables in the result are filled from the regex's captures and from the source variable itself.
 */
export function evaluateMap(map: Directive, input: string): string {
  const entries = map.block ?? [];
  const source = (map.args[0] ?? '').replace(/^\$/, '');
  const fill = (value: string, captures: RegExpExecArray | undefined): string =>
    value.replace(/\$\{(\w+)\}|\$(\w+)/g, (all: string, braced?: string, bare?: string) => {
      const name = braced ?? bare ?? '';
      if (captures && /^\d+$/.test(name)) return captures[Number(name)] ?? '';
      const captured = captures?.groups?.[name];
      if (captured !== undefined) return captured;
      return name === source ? input : all;
    });
  const exact = entries.find((e) => !e.name.startsWith('~') && e.name !== 'default' && e.name === input);
  if (exact) return fill(exact.args[0] ?? '', undefined);
  for (const entry of entries) {
    if (!entry.name.startsWith('~')) continue;
    const insensitive = entry.name.startsWith('~*');
    const pattern = new RegExp(entry.name.slice(insensitive ? 2 : 1), insensitive ? 'i' : '');
    const match = pattern.exec(input);
    if (match) return fill(entry.args[0] ?? '', match);
  }
  const fallback = entries.find((e) => e.name === 'default');
  return fill(fallback?.args[0] ?? '', undefined);
}

/** `$name` and `${name}` variables a string refers to. */
export function variablesIn(value: string): string[] {
  return [...value.matchAll(/\$\{(\w+)\}|\$(\w+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

/** nginx time values (`90`, `5s`, `1h`, `1m30s`) in seconds. */
export function seconds(value: string): number {
  let total = 0;
  const units: Record<string, number> = {
    ms: 0.001,
    s: 1,
    m: 60,
    h: 3600,
    d: 86400,
    w: 604800,
    M: 2592000,
    y: 31536000,
  };
  for (const part of value.matchAll(/(\d+)(ms|[smhdwMy])?/g)) {
    total += Number(part[1]) * (units[part[2] ?? 's'] ?? 1);
  }
  return total;
}

/** nginx sizes (`64m`, `1k`, `1048576`) in bytes. */
export function bytes(value: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(value);
  if (!m) return Number.NaN;
  const factor: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  return Number(m[1]) * (factor[(m[2] ?? '').toLowerCase()] ?? 1);
}
