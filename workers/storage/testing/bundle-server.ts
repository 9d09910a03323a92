/**
 * Test HTTP server for bundles (Node only): serves a folder with CORS, ETag/Last-Modified, Range and
 * If-Range, logs every request and the bytes it served, and has switches to stall a file after N
 * bytes (then `stop()` cuts the connection), corrupt one byte of a file, or answer 404.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

/** One request as the server saw it. */
export interface ServedRequest {
  readonly method: string;
  /** First URL path segment (see BundleServer): lets one server offer several independent bundle URLs. */
  readonly mount: string;
  /** Path below the mount, relative to the served root ("tiny/unet.onnx"). */
  readonly path: string;
  readonly range: string | null;
  readonly ifRange: string | null;
  status: number;
  /** Body bytes written (for a stalled or cut request: what went out before the cut). */
  bytes: number;
}

/** Switches, changeable between requests. Paths match either "<path>" or "<mount>/<path>". */
export interface ServerSwitches {
  /** Send this many bytes of `path`, then hold the response until `release()` or `stop()` (once; cleared when hit). */
  stall: { path: string; after: number } | null;
  /** Flip one byte of `path` at `offset` in every response. */
  corrupt: { path: string; offset: number } | null;
  /** Paths answered with 404. */
  missing: Set<string>;
  /** Sleep this long between 64 KB chunks (to make progress visible). */
  chunkDelayMs: number;
  /** Answer without CORS headers (a browser then refuses to hand the response to the page). */
  noCors: boolean;
}

const CHUNK = 64 * 1024;

/** A bundle server on 127.0.0.1; URLs look like `${url}<mount>/<path>`: any mount name serves the same root. */
export class BundleServer {
  readonly log: ServedRequest[] = [];
  readonly switches: ServerSwitches = { stall: null, corrupt: null, missing: new Set(), chunkDelayMs: 0, noCors: false };
  private server: Server | null = null;
  private port = 0;
  /** Stalled responses and the functions that let them continue. */
  private readonly held = new Map<ServerResponse, () => void>();
  private readonly cache = new Map<string, { data: Buffer; etag: string; lastModified: string; mtimeMs: number }>();

  private constructor(private readonly root: string) {}

  /** Start serving `root` (on `port`, 0 = any free port). */
  static async start(root: string, port = 0): Promise<BundleServer> {
    const s = new BundleServer(root);
    await s.listen(port);
    return s;
  }

  /** Base URL ending in "/". */
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** GET requests for one file ("<path>" or "<mount>/<path>"). */
  requestsFor(path: string): ServedRequest[] {
    return this.log.filter((r) => r.method === 'GET' && (r.path === path || `${r.mount}/${r.path}` === path));
  }

  /** Listen (again) on the same port. */
  async listen(port = this.port): Promise<void> {
    const server = createServer((req, res) => { void this.handle(req, res); });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Let stalled responses send the rest of their file. */
  release(): void {
    const waiting = [...this.held.values()];
    this.held.clear();
    for (const go of waiting) go();
  }

  /** True while a response is stalled. */
  get stalled(): boolean {
    return this.held.size > 0;
  }

  /** Stop: cut held (stalled) responses after what they already sent, close every connection. */
  async stop(): Promise<void> {
    for (const [res, go] of this.held) {
      res.socket?.end();
      go();
    }
    this.held.clear();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async file(path: string): Promise<{ data: Buffer; etag: string; lastModified: string } | null> {
    const full = normalize(join(this.root, path));
    if (!full.startsWith(normalize(this.root) + sep)) return null;
    try {
      const st = await stat(full);
      if (!st.isFile()) return null;
      // Files may change between requests (a re-export): the cache holds one version per mtime and size.
      const cached = this.cache.get(path);
      if (cached && cached.mtimeMs === st.mtimeMs && cached.data.length === st.size) return cached;
      const data = await readFile(full);
      const entry = {
        data,
        etag: `"${createHash('sha256').update(data).digest('hex').slice(0, 16)}"`,
        lastModified: st.mtime.toUTCString(),
        mtimeMs: st.mtimeMs,
      };
      this.cache.set(path, entry);
      return entry;
    } catch {
      return null;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    // The first segment is the "mount": any name, so one server can offer several independent bundle URLs.
    const segs = decodeURIComponent(url.pathname).split('/').filter((s) => s !== '');
    const mount = segs[0] ?? '';
    const path = segs.slice(1).join('/');
    const matches = (p: string) => p === path || p === `${mount}/${path}`;
    const entry: ServedRequest = {
      method: req.method ?? 'GET', mount, path, range: req.headers.range ?? null,
      ifRange: (req.headers['if-range'] as string | undefined) ?? null, status: 0, bytes: 0,
    };
    this.log.push(entry);
    if (!this.switches.noCors) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Expose-Headers', 'ETag, Last-Modified, Content-Range, Content-Length, Accept-Ranges');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD');
      res.setHeader('Access-Control-Allow-Headers', 'Range, If-Range');
      res.setHeader('Access-Control-Max-Age', '600');
      entry.status = 204;
      res.writeHead(204).end();
      return;
    }
    const file = [...this.switches.missing].some(matches) ? null : await this.file(path);
    if (!file) {
      entry.status = 404;
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    let data = file.data;
    const corrupt = this.switches.corrupt;
    if (corrupt && matches(corrupt.path) && corrupt.offset < data.length) {
      data = Buffer.from(data);
      data[corrupt.offset] = data[corrupt.offset]! ^ 0xff;
    }
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('ETag', file.etag);
    res.setHeader('Last-Modified', file.lastModified);
    res.setHeader('Content-Type', path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    let start = 0;
    let end = data.length - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(entry.range ?? '');
    const ifRangeOk = entry.ifRange === null || entry.ifRange === file.etag || entry.ifRange === file.lastModified;
    if (range && ifRangeOk) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
      if (start >= data.length || end < start) {
        entry.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${data.length}` }).end();
        return;
      }
      status = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${data.length}`);
    }
    entry.status = status;
    res.writeHead(status, { 'Content-Length': String(end - start + 1) });
    if (req.method === 'HEAD') { res.end(); return; }

    const stall = this.switches.stall;
    let stallAt = stall && matches(stall.path) ? stall.after : null;
    for (let at = start; at <= end;) {
      let n = Math.min(CHUNK, end + 1 - at);
      if (stallAt !== null) {
        if (at >= stallAt) {
          // Hold the response open: release() lets it go on, stop() cuts it. Only the first matching request stalls.
          this.switches.stall = null;
          stallAt = null;
          await new Promise<void>((resolve) => this.held.set(res, resolve));
          if (res.destroyed || res.socket?.writableEnded !== false) return;
          continue;
        }
        n = Math.min(n, stallAt - at);
      }
      const chunk = data.subarray(at, at + n);
      const flushed = await new Promise<boolean>((resolve) => {
        res.write(chunk, (err) => resolve(!err));
      });
      if (!flushed || res.destroyed) return;
      entry.bytes += n;
      at += n;
      if (this.switches.chunkDelayMs > 0) await new Promise((r) => setTimeout(r, this.switches.chunkDelayMs));
    }
    res.end();
  }
}
