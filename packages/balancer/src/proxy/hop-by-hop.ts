/**
 * Header fields that describe one connection, never forwarded (RFC 9110 7.6.1, plus the
 * non-standard `Proxy-Connection` and RFC 2616's `Trailer`, as nginx, HAProxy, Envoy and Go's
 * ReverseProxy all drop). Every field a `Connection` header names is dropped too.
 *
 * Kept on purpose: `Proxy-Authenticate` and `Proxy-Authorization` (RFC 9110 no longer lists
 * them; nginx, HAProxy and Envoy forward them, Go drops them), `Host` (as the client sent it,
 * like HAProxy and nginx's usual `proxy_set_header Host $host`, so virtual hosts behind the
 * balancer work) and `TE: trailers` (Envoy keeps it: gRPC requires it).
 */
export const HOP_BY_HOP_HEADERS: readonly string[] = Object.freeze([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

// Name lengths that may be hop-by-hop, as bits: most headers are skipped on their length alone,
// without lowercasing. Requests add `expect` (6): Node has already answered `100-continue` and
// undici refuses the header.
const RESPONSE_LENGTHS = (1 << 2) | (1 << 7) | (1 << 10) | (1 << 16) | (1 << 17);
const REQUEST_LENGTHS = RESPONSE_LENGTHS | (1 << 6);
const MASK_BITS = 32;

/**
 * A set of header names, matched case-insensitively, with the length pre-check the filters use.
 * Build it once (at startup) from the names the proxy rewrites: `FORWARDED_HEADERS`,
 * `HopPropagation.rewrites`.
 */
export class HeaderNameSet {
  readonly #names: Set<string>;
  #lengths = 0;
  #long = false;

  constructor(names: Iterable<string>) {
    this.#names = new Set();
    for (const name of names) {
      const lower = name.toLowerCase();
      this.#names.add(lower);
      if (lower.length < MASK_BITS) this.#lengths |= 1 << lower.length;
      else this.#long = true;
    }
  }

  /** Whether a name of this length could be in the set. */
  mayHold(length: number): boolean {
    return length < MASK_BITS ? ((this.#lengths >>> length) & 1) === 1 : this.#long;
  }

  /** `lower` must already be lowercase. */
  hasLower(lower: string): boolean {
    return this.#names.has(lower);
  }

  /** Any case. */
  has(name: string): boolean {
    return this.mayHold(name.length) && this.#names.has(name.toLowerCase());
  }
}

const NO_NAMES = new HeaderNameSet([]);

/**
 * Appends the request headers to forward to `out` as flat `name, value` pairs (undici's
 * `dispatch({ headers })` takes that array as it is): `raw` (Node's `req.rawHeaders`) without
 * the hop-by-hop fields, without those its `Connection` header names (never `Host` or `TE`,
 * decided here), without `Expect`, and without the names in `rewritten`, which the proxy then
 * sets itself (call this before appending them). Names keep the client's case.
 */
export function forwardableRequestHeaders(
  raw: readonly string[],
  out: string[],
  rewritten: HeaderNameSet = NO_NAMES,
): void {
  forwardable(raw, out, rewritten, REQUEST_LENGTHS);
}

/**
 * Appends the response headers to pass to the client to `out` as flat `name, value` pairs
 * (`res.writeHead(status, out)` takes that array): the same filter as for requests, over the
 * backend's raw headers, strings or the `Buffer`s undici's `controller.rawHeaders` holds
 * (decoded as latin1, so every byte is relayed unchanged).
 */
export function forwardableResponseHeaders(
  raw: ReadonlyArray<string | Buffer>,
  out: string[],
  rewritten: HeaderNameSet = NO_NAMES,
): void {
  forwardable(raw, out, rewritten, RESPONSE_LENGTHS);
}

function forwardable(
  raw: ReadonlyArray<string | Buffer>,
  out: string[],
  rewritten: HeaderNameSet,
  hopLengths: number,
): void {
  const start = out.length;
  let nominated: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = text(raw[i]!);
    const value = text(raw[i + 1]!);
    const length = name.length;
    const maybeHop = length < MASK_BITS && ((hopLengths >>> length) & 1) === 1;
    if (maybeHop || rewritten.mayHold(length)) {
      const lower = name.toLowerCase();
      if (maybeHop && isHopByHop(lower, value, hopLengths === REQUEST_LENGTHS)) {
        if (lower === 'connection') nominated = connectionOptions(value, nominated);
        continue;
      }
      if (rewritten.hasLower(lower)) continue;
    }
    out.push(name, value);
  }
  // The Connection header may come after the fields it names: remove them once it is known.
  if (nominated !== undefined) removeNominated(out, start, nominated);
}

function text(field: string | Buffer): string {
  return typeof field === 'string' ? field : field.toString('latin1');
}

function isHopByHop(lower: string, value: string, request: boolean): boolean {
  switch (lower) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'trailer':
    case 'transfer-encoding':
    case 'upgrade':
      return true;
    case 'te':
      return !request || value.trim().toLowerCase() !== 'trailers';
    case 'expect':
      return request;
    default:
      return false;
  }
}

/**
 * The field names a `Connection` value nominates, lowercase, added to `into` (created on the
 * first one, so the common `keep-alive` and `close` allocate nothing).
 */
function connectionOptions(value: string, into: string[] | undefined): string[] | undefined {
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(',', start);
    if (end < 0) end = value.length;
    let s = start;
    let e = end;
    while (s < e && isOws(value.charCodeAt(s))) s++;
    while (e > s && isOws(value.charCodeAt(e - 1))) e--;
    if (e > s && !isKeptOption(value, s, e)) {
      into ??= [];
      into.push(value.slice(s, e).toLowerCase());
    }
    start = end + 1;
  }
  return into;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

// `close` and `keep-alive` are connection options, not field names; a nominated `Host` or
// `TE` would let the client strip what this proxy decides on (TE: trailers is kept above).
const KEPT_OPTIONS = ['close', 'keep-alive', 'host', 'te'];

function isKeptOption(value: string, start: number, end: number): boolean {
  for (const option of KEPT_OPTIONS) {
    if (end - start === option.length && equalsLowercase(value, start, option)) return true;
  }
  return false;
}

/** Compares in place, without slicing: `value` from `start` against lowercase `option`. */
function equalsLowercase(value: string, start: number, option: string): boolean {
  for (let i = 0; i < option.length; i++) {
    const c = value.charCodeAt(start + i);
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== option.charCodeAt(i)) return false;
  }
  return true;
}

function removeNominated(out: string[], start: number, nominated: readonly string[]): void {
  let write = start;
  for (let read = start; read + 1 < out.length; read += 2) {
    const name = out[read]!;
    if (isNominated(name, nominated)) continue;
    out[write] = name;
    out[write + 1] = out[read + 1]!;
    write += 2;
  }
  out.length = write;
}

function isNominated(name: string, nominated: readonly string[]): boolean {
  for (const option of nominated) {
    if (option.length === name.length && name.toLowerCase() === option) return true;
  }
  return false;
}
