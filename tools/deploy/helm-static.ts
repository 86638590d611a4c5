/**
 * Static checks of Go-template (Helm) files, for when the helm binary is not installed: actions are balanced,
 * control structures are closed, and the `.Values` paths and `include` names they use exist.
 */

export interface Action {
  /** The text between the delimiters, without trim markers. */
  readonly body: string;
  readonly line: number;
  readonly comment: boolean;
}

export interface ScanResult {
  readonly actions: Action[];
  readonly errors: string[];
}

/** Finds every `{{ ... }}` action; reports stray or unclosed delimiters. */
export function scanActions(source: string): ScanResult {
  const actions: Action[] = [];
  const errors: string[] = [];
  const lineAt = (index: number): number => source.slice(0, index).split('\n').length;
  let i = 0;
  for (;;) {
    const open = source.indexOf('{{', i);
    const strayClose = source.indexOf('}}', i);
    if (strayClose !== -1 && (open === -1 || strayClose < open)) {
      errors.push(`line ${lineAt(strayClose)}: "}}" without an opening "{{"`);
    }
    if (open === -1) break;
    let j = open + 2;
    if (source.charAt(j) === '-' && /\s/.test(source.charAt(j + 1))) j += 1;
    const afterTrim = source.slice(j).trimStart();
    const comment = afterTrim.startsWith('/*');
    let close: number;
    if (comment) {
      const end = source.indexOf('*/', j);
      close = end === -1 ? -1 : source.indexOf('}}', end);
      if (close !== -1 && !/^\s*-?\s*$/.test(source.slice(end + 2, close))) {
        errors.push(`line ${lineAt(open)}: text between "*/" and "}}"`);
      }
    } else {
      close = -1;
      let k = j;
      while (k < source.length) {
        const c = source.charAt(k);
        if (c === '"') {
          k++;
          while (k < source.length && source.charAt(k) !== '"') k += source.charAt(k) === '\\' ? 2 : 1;
        } else if (c === '`') {
          k = source.indexOf('`', k + 1);
          if (k === -1) k = source.length;
        } else if (source.startsWith('{{', k)) {
          errors.push(`line ${lineAt(open)}: "{{" opened inside another action`);
          break;
        } else if (source.startsWith('}}', k)) {
          close = k;
          break;
        }
        k++;
      }
    }
    if (close === -1) {
      errors.push(`line ${lineAt(open)}: "{{" is never closed`);
      break;
    }
    let body = source.slice(open + 2, close);
    body = body.replace(/^-\s/, '').replace(/\s-$/, '').trim();
    actions.push({ body, line: lineAt(open), comment });
    i = close + 2;
  }
  return { actions, errors };
}

const OPENERS = new Set(['if', 'range', 'with', 'define', 'block']);

/** Control structures (if/range/with/define/block ... else ... end) nest and close. */
export function controlErrors(actions: readonly Action[]): string[] {
  const errors: string[] = [];
  const stack: { keyword: string; line: number }[] = [];
  for (const action of actions) {
    if (action.comment) continue;
    const keyword = /^([a-z]+)\b/.exec(action.body)?.[1] ?? '';
    if (OPENERS.has(keyword)) {
      stack.push({ keyword, line: action.line });
    } else if (keyword === 'else') {
      const top = stack.at(-1);
      if (!top || !['if', 'range', 'with'].includes(top.keyword)) {
        errors.push(`line ${action.line}: "else" outside if/range/with`);
      }
    } else if (keyword === 'end') {
      if (!stack.pop()) errors.push(`line ${action.line}: "end" without an open block`);
    }
  }
  for (const open of stack) errors.push(`line ${open.line}: "${open.keyword}" is never closed with "end"`);
  return errors;
}

/**
 * `.Values.a.b` paths an action reads, from the top context: `.Values`, `$.Values`, and `.root.Values` /
 * `$root.Values` (the helpers pass the top context as `root`).
 */
export function valuesPaths(actions: readonly Action[]): { path: string[]; line: number }[] {
  const out: { path: string[]; line: number }[] = [];
  for (const action of actions) {
    if (action.comment) continue;
    const code = action.body.replace(/"(?:[^"\\]|\\.)*"|`[^`]*`/g, '""');
    for (const m of code.matchAll(/(?<![\w.$])(?:\$root|\.root|\$)?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)/g)) {
      const segments = (m[1] ?? '').split('.').filter((s) => s !== '');
      out.push({ path: segments, line: action.line });
    }
  }
  return out;
}

/** Whether `path` names something in `values` (every segment a key of a mapping). */
export function hasPath(values: unknown, path: readonly string[]): boolean {
  let node: unknown = values;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !(segment in node)) return false;
    node = (node as Record<string, unknown>)[segment];
  }
  return true;
}

export function definedTemplates(actions: readonly Action[]): Set<string> {
  const names = new Set<string>();
  for (const action of actions) {
    const m = /^define\s+"([^"]+)"/.exec(action.body);
    if (m?.[1] !== undefined) names.add(m[1]);
  }
  return names;
}

export function includedTemplates(actions: readonly Action[]): { name: string; line: number }[] {
  const out: { name: string; line: number }[] = [];
  for (const action of actions) {
    if (action.comment) continue;
    for (const m of action.body.matchAll(/\b(?:include|template)\s+"([^"]+)"/g)) {
      if (m[1] !== undefined) out.push({ name: m[1], line: action.line });
    }
  }
  return out;
}

/** The `apiVersion`/`kind` pairs a template declares (literal lines only), in order. */
export function manifestKinds(source: string): { apiVersion: string; kind: string }[] {
  const out: { apiVersion: string; kind: string }[] = [];
  let apiVersion = '';
  for (const line of source.split('\n')) {
    const version = /^apiVersion:\s*(\S+)\s*$/.exec(line)?.[1];
    if (version !== undefined) apiVersion = version;
    const kind = /^kind:\s*(\w+)\s*$/.exec(line)?.[1];
    if (kind !== undefined) out.push({ apiVersion, kind });
  }
  return out;
}

/**
 * The condition guarding the first literal line matching `line`: the `if`/`with` actions still open there, as
 * written (e.g. `if $.Values.migration.enabled`). Shows whether an object or a setting is conditional, and on what.
 */
export function guardsOf(source: string, line: RegExp): string[] {
  const index = source.split('\n').findIndex((l) => line.test(l));
  if (index === -1) return [];
  const open: string[] = [];
  for (const action of scanActions(source.split('\n').slice(0, index).join('\n')).actions) {
    if (action.comment) continue;
    const body = action.body.trim();
    if (/^(if|with|range|define|block)\b/.test(body)) open.push(body);
    else if (/^end\b/.test(body)) open.pop();
  }
  return open;
}
