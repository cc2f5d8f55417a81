/** One HTTP/1.1 response as read off the wire. */
export interface WireResponse {
  readonly status: number;
  readonly reason: string;
  /** Header fields in order, names lower-cased. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** A server-sent event stream: headers read, body not awaited (it never ends by itself). */
  readonly streaming: boolean;
}

/** The bytes a server sent are not well-formed HTTP/1.1 responses; the message says where. */
export class ResponseViolation extends Error {
  override name = 'ResponseViolation';
}

const STATUS_LINE = /^HTTP\/1\.1 ([1-5]\d\d) ([\t\x20-\x7e\x80-\xff]*)$/;
// RFC 9110 5.1 and 5.5: a token, a colon, optional whitespace, then visible characters,
// spaces, tabs and obs-text; no leading whitespace (obs-fold), no control characters.
const FIELD_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\t\x20-\x7e\x80-\xff]*)$/;
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Parses everything a server sent on one connection as a sequence of responses, strictly:
 * status line, field syntax, exactly one framing (Content-Length, chunked, or the connection's
 * close), chunk syntax, nothing left over. `head` says the first request was HEAD (its final
 * response has no body); `closed` that the server closed the connection after `data`, which is
 * what ends a body framed by the close. Throws a {@link ResponseViolation}; a response cut short
 * is one, unless `cutShort` is allowed (a reset, which may drop what the server wrote last).
 */
export function parseResponses(
  data: Buffer,
  options: { head: boolean; closed: boolean; cutShort?: boolean },
): WireResponse[] {
  const responses: WireResponse[] = [];
  let at = 0;
  let finals = 0;
  while (at < data.length) {
    const headEnd = data.indexOf(HEAD_END, at);
    if (headEnd < 0) {
      if (options.cutShort) return responses;
      throw new ResponseViolation(
        `response head not terminated: ${JSON.stringify(data.subarray(at, at + 200).toString('latin1'))}`,
      );
    }
    const lines = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    for (const line of lines) {
      if (line.includes('\r') || line.includes('\n')) {
        throw new ResponseViolation(`bare CR or LF in the response head: ${JSON.stringify(line)}`);
      }
    }
    const statusLine = STATUS_LINE.exec(lines[0]!);
    if (statusLine === null) throw new ResponseViolation(`bad status line ${JSON.stringify(lines[0])}`);
    const status = Number(statusLine[1]);
    const headers: (readonly [string, string])[] = [];
    for (const line of lines.slice(1)) {
      const field = FIELD_LINE.exec(line);
      if (field === null) throw new ResponseViolation(`bad header field ${JSON.stringify(line)}`);
      headers.push([field[1]!.toLowerCase(), field[2]!.replace(/[ \t]+$/, '')]);
    }
    at = headEnd + 4;
    const values = (name: string): string[] => headers.filter(([n]) => n === name).map(([, v]) => v);
    if (status < 200) {
      if (status === 101)
        throw new ResponseViolation('101 Switching Protocols to a request that never asked');
      responses.push({ status, reason: statusLine[2]!, headers, body: Buffer.alloc(0), streaming: false });
      continue;
    }
    const noBody = (finals === 0 && options.head) || status === 204 || status === 304;
    finals++;
    const lengths = values('content-length');
    const codings = values('transfer-encoding');
    if (lengths.length > 0 && codings.length > 0) {
      throw new ResponseViolation(`${status} has both Content-Length and Transfer-Encoding`);
    }
    if (new Set(lengths).size > 1 || lengths.some((v) => !/^\d{1,15}$/.test(v))) {
      throw new ResponseViolation(`${status} has Content-Length ${JSON.stringify(lengths)}`);
    }
    const done = (body: Buffer, streaming = false): void => {
      responses.push({ status, reason: statusLine[2]!, headers, body, streaming });
    };
    if (noBody) {
      done(Buffer.alloc(0));
    } else if (status === 200 && values('content-type').some((v) => /^text\/event-stream\b/i.test(v))) {
      // Framing was checked above; the stream itself runs until the server ends it.
      done(data.subarray(at), true);
      return responses;
    } else if (codings.length > 0) {
      if (codings.length > 1 || codings[0]!.toLowerCase() !== 'chunked') {
        throw new ResponseViolation(`${status} has Transfer-Encoding ${JSON.stringify(codings)}`);
      }
      const chunked = readChunked(data, at);
      if (chunked === undefined) {
        if (options.cutShort) return responses;
        throw new ResponseViolation(`${status}: chunked body cut short`);
      }
      at = chunked.end;
      done(chunked.body);
    } else if (lengths.length > 0) {
      const length = Number(lengths[0]);
      if (data.length - at < length) {
        if (options.cutShort) return responses;
        throw new ResponseViolation(`${status}: body of ${data.length - at} bytes, Content-Length ${length}`);
      }
      done(data.subarray(at, at + length));
      at += length;
    } else {
      // Framed by the close (RFC 9112 6.3): only valid as the last thing on the connection.
      if (!options.closed && !options.cutShort) {
        throw new ResponseViolation(`${status} has no framing and the connection stayed open`);
      }
      done(data.subarray(at));
      return responses;
    }
  }
  return responses;
}

/** A chunked body starting at `from`: its bytes and where it ends, or undefined when incomplete. */
function readChunked(data: Buffer, from: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const line = data.subarray(at, lineEnd).toString('latin1');
    const size = /^([0-9a-fA-F]{1,8})(;[\t\x20-\x7e]*)?$/.exec(line);
    if (size === null) throw new ResponseViolation(`bad chunk size line ${JSON.stringify(line)}`);
    const n = Number.parseInt(size[1]!, 16);
    at = lineEnd + 2;
    if (n === 0) break;
    if (data.length < at + n + 2) return undefined;
    parts.push(data.subarray(at, at + n));
    if (data[at + n] !== 0x0d || data[at + n + 1] !== 0x0a) {
      throw new ResponseViolation('chunk data not followed by CRLF');
    }
    at += n + 2;
  }
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const line = data.subarray(at, lineEnd).toString('latin1');
    at = lineEnd + 2;
    if (line === '') return { body: Buffer.concat(parts), end: at };
    if (!FIELD_LINE.test(line)) throw new ResponseViolation(`bad trailer field ${JSON.stringify(line)}`);
  }
}

/** The value of a header of a parsed response, the first if repeated. */
export function headerOf(response: WireResponse, name: string): string | undefined {
  return response.headers.find(([n]) => n === name)?.[1];
}
