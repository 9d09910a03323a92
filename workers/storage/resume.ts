/**
 * HTTP resume logic (RFC 9110 §14 Range requests, §13.1.5 If-Range), as pure functions:
 * which headers to send for a partly stored file, and what a response means for it.
 */

/** A validator that lets a server tell whether a stored prefix still belongs to the same file. */
export interface Validator {
  readonly etag: string | null;
  readonly lastModified: string | null;
}

/** The If-Range value for a validator: a strong ETag, else Last-Modified; null when neither can be used. */
export function ifRangeValue(v: Validator | null): string | null {
  if (!v) return null;
  // RFC 9110 §13.1.5: If-Range needs a strong validator; weak ETags (W/"...") never match.
  if (v.etag && !v.etag.startsWith('W/')) return v.etag;
  if (v.lastModified) return v.lastModified;
  return null;
}

/** The validator a response carries (headers must be readable: CORS hosts expose ETag/Last-Modified or not at all). */
export function validatorOf(headers: Headers): Validator | null {
  const etag = headers.get('etag');
  const lastModified = headers.get('last-modified');
  if (!etag && !lastModified) return null;
  return { etag, lastModified };
}

/** What to ask the server for, given what is stored. */
export interface RequestPlan {
  /** Byte offset the response body should start at (0 = whole file). */
  readonly start: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** What planRequest needs to know about a stored file. */
export interface PlanInput {
  /** Bytes already stored for this file. */
  readonly stored: number;
  /** Expected size from the manifest, when given. */
  readonly expectedBytes: number | null;
  /** True when the manifest gives a sha256: a stale prefix is then caught by verification, so a Range without If-Range is safe. */
  readonly hasHash: boolean;
  /** Validator saved when the stored prefix was fetched. */
  readonly validator: Validator | null;
}

/**
 * Plan the request for one file. Resumes with `Range: bytes=N-` when N bytes are stored, guarded by
 * If-Range when we have a validator; without a validator or hash a prefix cannot be trusted, so start over.
 */
export function planRequest(input: PlanInput): RequestPlan {
  const { stored, expectedBytes, hasHash, validator } = input;
  if (stored <= 0) return { start: 0, headers: {} };
  if (expectedBytes !== null && stored >= expectedBytes) return { start: 0, headers: {} };
  const ifRange = ifRangeValue(validator);
  if (ifRange === null && !hasHash) return { start: 0, headers: {} };
  const headers: Record<string, string> = { Range: `bytes=${stored}-` };
  if (ifRange !== null) headers['If-Range'] = ifRange;
  return { start: stored, headers };
}

/** Parsed `Content-Range: bytes first-last/complete` (complete may be "*"). */
export interface ContentRange {
  readonly first: number;
  readonly last: number;
  readonly complete: number | null;
}

/** Parse a Content-Range header value; null when it is not a satisfied byte range. */
export function parseContentRange(value: string | null): ContentRange | null {
  if (!value) return null;
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return null;
  const first = Number(m[1]);
  const last = Number(m[2]);
  const complete = m[3] === '*' ? null : Number(m[3]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first) return null;
  if (complete !== null && (!Number.isSafeInteger(complete) || last >= complete)) return null;
  return { first, last, complete };
}

/** What to do with a response. */
export type ResponseAction =
  /** Append the body after the stored prefix. */
  | { readonly kind: 'append'; readonly start: number; readonly total: number | null }
  /** Drop the stored prefix and write the body from byte 0 (`reason` says why, for the log). */
  | { readonly kind: 'restart'; readonly total: number | null; readonly reason: string }
  /** Ask again without a Range (e.g. 416: the stored prefix is longer than the remote file). */
  | { readonly kind: 'retry-full'; readonly reason: string }
  /** The file is not there. */
  | { readonly kind: 'missing'; readonly status: number }
  /** Any other HTTP failure. */
  | { readonly kind: 'error'; readonly status: number; readonly reason: string };

/** Interpret a response to a planned request (status and headers only). */
export function interpretResponse(plan: RequestPlan, status: number, headers: Headers): ResponseAction {
  const length = headers.get('content-length');
  const bodyLength = length !== null && /^\d+$/.test(length) ? Number(length) : null;
  if (status === 206) {
    const raw = headers.get('content-range');
    // A cross-origin host that does not list Content-Range in Access-Control-Expose-Headers hides it; a 206 to
    // a single "bytes=N-" range is that range, and the sha256 check catches anything else.
    if (raw === null) return { kind: 'append', start: plan.start, total: null };
    const range = parseContentRange(raw);
    if (!range) return { kind: 'error', status, reason: `the server sent 206 Partial Content with an invalid Content-Range "${raw}"` };
    if (range.first !== plan.start) {
      if (range.first === 0) return { kind: 'restart', total: range.complete, reason: 'the server answered from byte 0' };
      return { kind: 'error', status, reason: `asked for bytes from ${plan.start} but the server sent from ${range.first}` };
    }
    return { kind: 'append', start: range.first, total: range.complete };
  }
  if (status === 200) {
    // Either the server ignores Range or If-Range did not match (the file changed): the body is the whole file.
    const reason = plan.start === 0 ? 'full download'
      : plan.headers['If-Range'] ? 'the file changed on the server (If-Range did not match) or the server ignores Range'
        : 'the server ignores Range requests';
    return plan.start === 0 ? { kind: 'append', start: 0, total: bodyLength } : { kind: 'restart', total: bodyLength, reason };
  }
  if (status === 416) {
    if (plan.start === 0) return { kind: 'error', status, reason: 'the server refused a request without a range (416)' };
    return { kind: 'retry-full', reason: 'the stored prefix is longer than the file on the server (416)' };
  }
  if (status === 404 || status === 410) return { kind: 'missing', status };
  return { kind: 'error', status, reason: `HTTP ${status}` };
}
