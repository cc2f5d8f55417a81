// HTTP field values may carry optional whitespace (RFC 9110 OWS: space, horizontal tab) around
// them and around list members; every parser skips it the same way, without slicing.

export function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** The first index in [start, end) that is not OWS, or `end`. */
export function skipOws(s: string, start: number, end: number): number {
  while (start < end && isOws(s.charCodeAt(start))) start++;
  return start;
}

/** `end` moved back over trailing OWS, never before `start`. */
export function trimOwsEnd(s: string, start: number, end: number): number {
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return end;
}
