/**
 * PNG text chunks: write the generation parameters into a PNG and read them back
 * (PNG spec §11.3.4: tEXt is Latin-1; iTXt carries UTF-8, e.g. Russian prompts).
 */

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10] as const;

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO-HDLC, polynomial 0xEDB88320) as PNG chunks use it (PNG spec annex D). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (crcTable[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk as found in a PNG stream. */
export interface PngChunk {
  readonly type: string;
  /** Offset of the chunk's length field. */
  readonly offset: number;
  readonly data: Uint8Array;
}

/** True when the bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Every chunk, in order; throws with a clear message on a damaged stream. */
export function readChunks(png: Uint8Array): PngChunk[] {
  if (!isPng(png)) throw new Error('PNG: the file does not start with the PNG signature; expected a PNG image');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: PngChunk[] = [];
  let p = 8;
  while (p + 12 <= png.length) {
    const len = view.getUint32(p);
    const type = String.fromCharCode(...png.subarray(p + 4, p + 8));
    if (p + 12 + len > png.length) throw new Error(`PNG: chunk ${type} at byte ${p} runs past the end of the file (truncated?)`);
    const crc = view.getUint32(p + 8 + len);
    if (crc !== crc32(png, p + 4, p + 8 + len)) throw new Error(`PNG: chunk ${type} at byte ${p} has a bad CRC (corrupt file)`);
    chunks.push({ type, offset: p, data: png.subarray(p + 8, p + 8 + len) });
    p += 12 + len;
    if (type === 'IEND') break;
  }
  if (chunks.at(-1)?.type !== 'IEND') throw new Error('PNG: no IEND chunk (truncated file)');
  return chunks;
}

/** Encode one chunk (length, type, data, CRC). */
export function encodeChunk(type: string, data: Uint8Array): Uint8Array {
  if (!/^[A-Za-z]{4}$/.test(type)) throw new Error(`PNG: chunk type must be 4 ASCII letters, got "${type}"`);
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

const isLatin1 = (s: string): boolean => [...s].every((ch) => (ch.codePointAt(0) ?? 0) <= 0xff);

/** A text chunk for `keyword`: tEXt when the text is Latin-1, uncompressed iTXt (UTF-8) otherwise. */
export function textChunk(keyword: string, text: string): Uint8Array {
  if (!/^[\x20-\x7e]{1,79}$/.test(keyword)) throw new Error(`PNG: keyword must be 1–79 printable ASCII characters, got "${keyword}"`);
  const kw = new TextEncoder().encode(keyword);
  if (isLatin1(text)) {
    const data = new Uint8Array(kw.length + 1 + text.length);
    data.set(kw, 0);
    for (let i = 0; i < text.length; i++) data[kw.length + 1 + i] = text.charCodeAt(i);
    return encodeChunk('tEXt', data);
  }
  // iTXt: keyword \0 compression-flag(0) method(0) language-tag \0 translated-keyword \0 text
  const body = new TextEncoder().encode(text);
  const data = new Uint8Array(kw.length + 5 + body.length);
  data.set(kw, 0);
  data.set(body, kw.length + 5);
  return encodeChunk('iTXt', data);
}

/** A copy of `png` with text chunks inserted just before IEND (existing chunks with the same keyword are dropped). */
export function withTextChunks(png: Uint8Array, entries: Readonly<Record<string, string>>): Uint8Array {
  const chunks = readChunks(png);
  const keys = new Set(Object.keys(entries));
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  for (const c of chunks) {
    if (c.type === 'IEND') for (const [k, v] of Object.entries(entries)) parts.push(textChunk(k, v));
    if ((c.type === 'tEXt' || c.type === 'iTXt') && keys.has(decodeText(c)?.keyword ?? '')) continue;
    parts.push(png.subarray(c.offset, c.offset + 12 + c.data.length));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function decodeText(c: PngChunk): { keyword: string; text: string } | null {
  const zero = c.data.indexOf(0);
  if (zero < 0) return null;
  const keyword = String.fromCharCode(...c.data.subarray(0, zero));
  if (c.type === 'tEXt') {
    let text = '';
    for (const b of c.data.subarray(zero + 1)) text += String.fromCharCode(b);
    return { keyword, text };
  }
  if (c.type === 'iTXt') {
    const compressed = c.data[zero + 1];
    if (compressed !== 0) return null; // We never write compressed iTXt.
    const lang = c.data.indexOf(0, zero + 3);
    const translated = lang < 0 ? -1 : c.data.indexOf(0, lang + 1);
    if (translated < 0) return null;
    return { keyword, text: new TextDecoder().decode(c.data.subarray(translated + 1)) };
  }
  return null;
}

/** Every tEXt / uncompressed iTXt entry of a PNG, keyword → text. */
export function readTextChunks(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of readChunks(png)) {
    const t = c.type === 'tEXt' || c.type === 'iTXt' ? decodeText(c) : null;
    if (t) out[t.keyword] = t.text;
  }
  return out;
}
