import type { Dispatcher } from 'undici';

type Headers = Dispatcher.DispatchOptions['headers'];

/**
 * The value of header `lower` (a lowercase name) in any form undici accepts for
 * `dispatch({ headers })`: a flat `[name, value, …]` array, an iterable of `[name, value]`
 * pairs, or a record. The first match wins; undefined when absent.
 */
export function dispatchHeader(headers: Headers, lower: string): string | undefined {
  if (headers == null) return undefined;
  if (Array.isArray(headers)) {
    if (typeof headers[0] === 'string' || Buffer.isBuffer(headers[0])) {
      for (let i = 0; i + 1 < headers.length; i += 2) {
        if (String(headers[i]).toLowerCase() === lower) return String(headers[i + 1]);
      }
      return undefined;
    }
  }
  if (Symbol.iterator in (headers as object) || Array.isArray(headers)) {
    for (const pair of headers as Iterable<[string, string | string[] | undefined]>) {
      if (pair[0].toLowerCase() === lower) return first(pair[1]);
    }
    return undefined;
  }
  for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (name.toLowerCase() === lower) return first(value);
  }
  return undefined;
}

/** `headers` as a flat `[name, value, …]` array with `name: value` appended. */
export function withHeader(headers: Headers, name: string, value: string): string[] {
  const flat: string[] = [];
  if (headers != null) {
    if (Array.isArray(headers) && (typeof headers[0] === 'string' || Buffer.isBuffer(headers[0]))) {
      for (const field of headers as Array<string | Buffer>) flat.push(String(field));
    } else {
      const pairs =
        Symbol.iterator in (headers as object)
          ? (headers as Iterable<[string, string | string[] | undefined]>)
          : Object.entries(headers as Record<string, string | string[] | undefined>);
      for (const [n, v] of pairs) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) flat.push(n, String(one));
      }
    }
  }
  flat.push(name, value);
  return flat;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
