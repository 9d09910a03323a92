/**
 * Moving one file into the store while hashing it: from HTTP (resumable with Range + If-Range) or
 * from a local Blob (folder import). The stored prefix of an interrupted transfer is re-hashed from
 * storage, so the final sha256 always covers exactly the bytes on disk.
 */
import type { IHasher } from 'hash-wasm';
import { EngineError, ErrorCode } from '../errors.ts';
import { checkSameOrigin, redirectedOrigin } from '../runtime/bundle-path.ts';
import type { FileStore } from './files.ts';
import { formatBytes } from './format.ts';
import { hashBlobInto, sha256Hasher } from './hash.ts';
import { mapQuotaError } from './quota.ts';
import { interpretResponse, planRequest, validatorOf, type RequestPlan, type Validator } from './resume.ts';
import type { FileRecord } from './state.ts';

/** An opened body to store from byte `start` on. */
export type OpenedBody =
  | { readonly kind: 'body'; readonly start: number; readonly body: ReadableStream<Uint8Array>; readonly validator: Validator | null; readonly total: number | null }
  | { readonly kind: 'absent' };

/** Where a file's bytes come from. `open` may answer from 0 even when asked to resume. */
export interface ByteSource {
  /** For messages: the URL or "the picked folder". */
  readonly where: string;
  open(plan: RequestPlan, signal: AbortSignal): Promise<OpenedBody>;
  /** The other origin that served the bytes after a redirect (pinned files only), or null. */
  servedFrom?(): string | null;
}

/** Progress hooks of one transfer. */
export interface TransferHooks {
  /** Re-hashing a stored prefix (bytes checked so far). */
  onChecking?(checked: number, of: number): void;
  /** The body starts at `start` (0 = from scratch); `total` when known. Persist the validator before bytes land. */
  onStart(start: number, total: number | null, validator: Validator | null): Promise<void>;
  /** `n` new bytes stored. */
  onBytes(n: number): void;
}

/** A stored and verified file, or an optional file the source does not have. */
export type TransferResult =
  | { readonly kind: 'verified'; readonly bytes: number; readonly sha256: string }
  | { readonly kind: 'absent' };

function cancelled(path: string, at: number, total: number | null): EngineError {
  return new EngineError(ErrorCode.Cancelled, `Download paused in ${path} at ${formatBytes(at)}${total === null ? '' : ` of ${formatBytes(total)}`}. Press Download to resume.`, { file: path });
}

/** Store one file from `source`, resuming a stored prefix where possible, and verify it. */
export async function transferFile(
  source: ByteSource,
  file: FileRecord,
  store: FileStore,
  storePath: string,
  signal: AbortSignal,
  hooks: TransferHooks,
): Promise<TransferResult> {
  const expected = file.bytes;
  let stored = store.canAppend ? (await store.size(storePath)) ?? 0 : 0;
  if (expected !== null && stored > expected) stored = 0;
  const hasher = await sha256Hasher();
  const complete = expected !== null && stored === expected && file.sha256 !== null;
  const plan = complete ? { start: stored, headers: {} } : planRequest({
    stored, expectedBytes: expected, hasHash: file.sha256 !== null, validator: file.validator,
  });

  if (plan.start > 0) {
    // Re-hash what is already on disk so the final digest covers the real bytes, not a remembered state.
    const blob = await store.read(storePath);
    let checked = 0;
    hooks.onChecking?.(0, plan.start);
    await hashBlobInto(hasher, blob ?? new Blob([]), {
      bytes: plan.start, signal, onBytes: (n) => { checked += n; hooks.onChecking?.(checked, plan.start); },
    });
    if (complete) {
      const digest = hasher.digest('hex');
      if (digest === file.sha256) return { kind: 'verified', bytes: stored, sha256: digest };
      return transferFromScratch(source, file, store, storePath, signal, hooks);
    }
  }

  const opened = await openOrThrow(source, plan, signal, file.path);
  if (opened.kind === 'absent') return { kind: 'absent' };
  // The source may restart from byte 0 (the file changed, or no Range support): drop the prefix hash.
  if (opened.start === 0 && plan.start > 0) hasher.init();
  return pump(opened, file, store, storePath, hasher, signal, hooks, source.where);
}

async function transferFromScratch(
  source: ByteSource, file: FileRecord, store: FileStore, storePath: string, signal: AbortSignal, hooks: TransferHooks,
): Promise<TransferResult> {
  const opened = await openOrThrow(source, { start: 0, headers: {} }, signal, file.path);
  if (opened.kind === 'absent') return { kind: 'absent' };
  return pump(opened, file, store, storePath, await sha256Hasher(), signal, hooks, source.where);
}

async function openOrThrow(source: ByteSource, plan: RequestPlan, signal: AbortSignal, path: string): Promise<OpenedBody> {
  try {
    return await source.open(plan, signal);
  } catch (e) {
    if (signal.aborted) throw cancelled(path, plan.start, null);
    throw e;
  }
}

async function pump(
  opened: Extract<OpenedBody, { kind: 'body' }>,
  file: FileRecord,
  store: FileStore,
  storePath: string,
  hasher: IHasher,
  signal: AbortSignal,
  hooks: TransferHooks,
  where: string,
): Promise<TransferResult> {
  const expected = file.bytes;
  const total = expected ?? opened.total;
  await hooks.onStart(opened.start, total, opened.validator);
  let at = opened.start;
  const sink = await store.open(storePath, opened.start).catch((e: unknown) => { throw mapQuotaError(e, file.path, at); });
  const reader = opened.body.getReader();
  let failure: unknown = null;
  try {
    for (;;) {
      if (signal.aborted) throw cancelled(file.path, at, total);
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (signal.aborted) throw cancelled(file.path, at, total);
        throw new EngineError(
          ErrorCode.Network,
          `The download of ${file.path} stopped at ${formatBytes(at)}${total === null ? '' : ` of ${formatBytes(total)}`} `
            + `(${e instanceof Error ? e.message : String(e)}). Press Download to resume: finished bytes are kept.`,
          { file: file.path },
        );
      }
      if (chunk.done) break;
      const bytes = chunk.value;
      if (expected !== null && at + bytes.byteLength > expected) {
        throw new EngineError(ErrorCode.Integrity, `${file.path} from ${where} is larger than the manifest says (${expected} bytes).`, {
          file: file.path, expected: String(expected), actual: `more than ${expected}`,
        });
      }
      hasher.update(bytes);
      try {
        await sink.write(bytes);
      } catch (e) {
        throw mapQuotaError(e, file.path, at);
      }
      at += bytes.byteLength;
      hooks.onBytes(bytes.byteLength);
    }
  } catch (e) {
    failure = e;
    await reader.cancel().catch(() => undefined);
  } finally {
    reader.releaseLock();
    // Commit the prefix even after a failure: a resume continues from it.
    await sink.close().catch((e: unknown) => { failure ??= mapQuotaError(e, file.path, at); });
  }
  if (failure !== null) throw failure;

  const knownTotal = expected ?? opened.total;
  if (knownTotal !== null && at < knownTotal) {
    throw new EngineError(
      ErrorCode.Network,
      `The download of ${file.path} ended early at ${formatBytes(at)} of ${formatBytes(knownTotal)}. Press Download to resume: finished bytes are kept.`,
      { file: file.path },
    );
  }
  const digest = hasher.digest('hex');
  if (file.sha256 !== null && digest !== file.sha256) {
    // A damaged file must not be resumed from: delete it so the next try fetches it whole.
    await store.remove(storePath);
    throw new EngineError(
      ErrorCode.Integrity,
      `${file.path} from ${where} is damaged: its sha256 differs from the manifest. The file was deleted; `
        + 'press Download to fetch it again, or check that the source serves the files this manifest describes.',
      { file: file.path, expected: file.sha256, actual: digest },
    );
  }
  return { kind: 'verified', bytes: at, sha256: digest };
}

/**
 * An HTTP source: Range + If-Range on resume; 404 of an optional file means absent. A `pinned` file
 * (the manifest gives its SHA-256, which the transfer checks) may be served from another origin after
 * a redirect, as Hugging Face's `resolve/` URLs redirect LFS files to a CDN; the origin is reported
 * through `servedFrom`. Unpinned files (tokenizer, stats) must come from the origin asked of.
 */
export function httpSource(url: string, optional: boolean, fetchFn: typeof fetch, pinned = false): ByteSource {
  let servedFrom: string | null = null;
  const get = async (plan: RequestPlan, signal: AbortSignal): Promise<Response> => {
    let response: Response;
    try {
      response = await fetchFn(url, { headers: plan.headers, signal, cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      if (signal.aborted) throw e;
      throw new EngineError(
        ErrorCode.Network,
        `Could not download ${url}: the network failed, or the host does not allow this site to read it (CORS). `
          + 'Check the connection; the host must send Access-Control-Allow-Origin (and expose ETag and Content-Range for resuming).',
        { file: url },
      );
    }
    const other = redirectedOrigin(url, response);
    if (other !== null && pinned) {
      servedFrom = other;
      return response;
    }
    try {
      checkSameOrigin(url, response, 'Downloading the model');
    } catch (e) {
      await response.body?.cancel().catch(() => undefined);
      throw e;
    }
    return response;
  };
  return {
    where: url,
    servedFrom: () => servedFrom,
    async open(plan, signal) {
      let response = await get(plan, signal);
      let action = interpretResponse(plan, response.status, response.headers);
      if (action.kind === 'retry-full') {
        await response.body?.cancel().catch(() => undefined);
        plan = { start: 0, headers: {} };
        response = await get(plan, signal);
        action = interpretResponse(plan, response.status, response.headers);
      }
      switch (action.kind) {
        case 'append':
        case 'restart': {
          if (!response.body) throw new EngineError(ErrorCode.Network, `${url} answered without a body.`, { file: url });
          const start = action.kind === 'append' ? action.start : 0;
          const length = response.headers.get('content-length');
          const total = action.total ?? (length !== null && /^\d+$/.test(length) ? start + Number(length) : null);
          return { kind: 'body', start, body: response.body, validator: validatorOf(response.headers), total };
        }
        case 'missing':
          await response.body?.cancel().catch(() => undefined);
          if (optional) return { kind: 'absent' };
          throw new EngineError(ErrorCode.MissingFile, `The manifest names a file the source does not have: ${url} answered HTTP ${action.status}.`, { file: url });
        case 'retry-full':
        case 'error':
          await response.body?.cancel().catch(() => undefined);
          throw new EngineError(ErrorCode.Network, `Could not download ${url}: ${action.kind === 'error' ? action.reason : 'the server refused the range twice'}.`, { file: url });
      }
    },
  };
}

/** A local Blob (a picked file): resumable too, by slicing. */
export function blobSource(blob: Blob | null, where: string, optional: boolean, path: string): ByteSource {
  return {
    where,
    async open(plan) {
      if (!blob) {
        if (optional) return { kind: 'absent' };
        throw new EngineError(ErrorCode.MissingFile, `The manifest names ${path}, but ${where} has no such file.`, { file: path });
      }
      const start = Math.min(plan.start, blob.size);
      // No validator: a local prefix is only resumed when the manifest hash will check it (planRequest).
      return { kind: 'body', start, body: blob.slice(start).stream(), validator: null, total: blob.size };
    },
  };
}
