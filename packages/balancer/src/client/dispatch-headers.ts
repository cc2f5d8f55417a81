import type { Dispatcher } from 'undici';

type Headers = Dispatcher.DispatchOptions['headers'];

/** What the dispatcher needs of one call's headers, read in one pass. */
export interface CallHeaders {
  /** The headers as a flat `[name, value, …]` array: what every attempt sends. */
  readonly flat: string[];
  readonly hasHost: boolean;
  /** A non-empty `Idempotency-Key`: the call may be repeated whatever its method. */
  readonly hasIdempotencyKey: boolean;
  /** The first value of the consistent-hashing header, when one is asked for and present. */
  readonly hashKey: string | undefined;
}

/**
 * Reads a call's headers in any form undici accepts for `dispatch({ headers })` (a flat
 * `[name, value, …]` array, an iterable of `[name, value]` pairs, or a record) into a flat array,
 * noting on the way what the dispatcher decides by. `hashHeader` is lowercase.
 */
export function readCallHeaders(headers: Headers, hashHeader: string | undefined): CallHeaders {
  const read = {
    flat: [] as string[],
    hasHost: false,
    hasIdempotencyKey: false,
    hashKey: undefined as string | undefined,
  };
  const visit = (name: string, value: string): void => {
    read.flat.push(name, value);
    const lower = name.toLowerCase();
    if (lower === 'host') read.hasHost = true;
    else if (lower === 'idempotency-key' && value !== '') read.hasIdempotencyKey = true;
    if (lower === hashHeader && read.hashKey === undefined) read.hashKey = value;
  };
  if (headers == null) return read;
  if (Array.isArray(headers) && (typeof headers[0] === 'string' || Buffer.isBuffer(headers[0]))) {
    const fields = headers as ReadonlyArray<string | Buffer>;
    for (let i = 0; i + 1 < fields.length; i += 2) visit(String(fields[i]), String(fields[i + 1]));
    return read;
  }
  const pairs =
    Symbol.iterator in (headers as object)
      ? (headers as Iterable<[string, string | string[] | undefined]>)
      : Object.entries(headers as Record<string, string | string[] | undefined>);
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const one of value) visit(name, String(one));
    else visit(name, String(value));
  }
  return read;
}
