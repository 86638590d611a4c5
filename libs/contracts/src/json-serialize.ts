/**
 * JSON.stringify with no depth limit. V8's JSON.stringify recurses on the native stack and throws
 * "Maximum call stack size exceeded" for values nested a few thousand levels deep; a stored item
 * holding such a value would then fail every read that serialises it (sync, list, export). This
 * answers exactly what JSON.stringify answers, falling back to an explicit stack only when needed.
 */
export function stringifyJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  return stringifyIteratively(value);
}

type Frame =
  | { readonly array: readonly unknown[]; index: number }
  | { readonly object: Record<string, unknown>; readonly keys: string[]; index: number; first: boolean };

function withToJson(key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return (toJSON as (key: string) => unknown).call(value, key);
  }
  return value;
}

export function stringifyIteratively(root: unknown): string | undefined {
  const out: string[] = [];
  const stack: Frame[] = [];
  /** Writes a value (opening containers onto the stack); false when JSON has no form for it. */
  const emit = (value: unknown): boolean => {
    if (value === null) {
      out.push('null');
      return true;
    }
    switch (typeof value) {
      case 'string':
        out.push(JSON.stringify(value));
        return true;
      case 'number':
        out.push(Number.isFinite(value) ? String(value) : 'null');
        return true;
      case 'boolean':
        out.push(value ? 'true' : 'false');
        return true;
      case 'bigint':
        throw new TypeError('Do not know how to serialize a BigInt');
      case 'object':
        if (Array.isArray(value)) {
          out.push('[');
          stack.push({ array: value, index: 0 });
        } else {
          out.push('{');
          const object = value as Record<string, unknown>;
          stack.push({ object, keys: Object.keys(object), index: 0, first: true });
        }
        return true;
      case 'undefined':
      case 'function':
      case 'symbol':
        break;
    }
    return false;
  };
  if (!emit(withToJson('', root))) return undefined;
  for (let top = stack.at(-1); top; top = stack.at(-1)) {
    if ('array' in top) {
      if (top.index >= top.array.length) {
        out.push(']');
        stack.pop();
        continue;
      }
      const index = top.index++;
      if (index > 0) out.push(',');
      if (!emit(withToJson(String(index), top.array[index]))) out.push('null');
      continue;
    }
    const key = top.keys[top.index++];
    if (key === undefined) {
      out.push('}');
      stack.pop();
      continue;
    }
    const value = withToJson(key, top.object[key]);
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    out.push(`${top.first ? '' : ','}${JSON.stringify(key)}:`);
    top.first = false;
    emit(value);
  }
  return out.join('');
}
