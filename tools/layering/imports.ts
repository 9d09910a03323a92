/**
 * A small import scanner for the layering test: the module specifiers a TypeScript file refers to
 * (`import … from`, `export … from`, `import type`, side-effect and dynamic imports, and
 * `new URL('…', import.meta.url)` for workers and assets). It skips comments, strings, template
 * literals and regular expressions, so text that only looks like an import is not one.
 * TypeScript 7's package has no compiler API to ask instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

type Token = { readonly kind: 'word' | 'punct'; readonly text: string } | { readonly kind: 'string'; readonly text: string };

/** Characters after which `/` starts a regular expression rather than a division. */
const REGEX_AFTER = new Set([...'(,=:[!&|?{};+-*%<>~^']);
const REGEX_AFTER_WORDS = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'void', 'yield', 'await']);

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const last = (): Token | undefined => out[out.length - 1];
  const skipTemplate = (): void => {
    i++; // the opening backtick
    while (i < src.length && src[i] !== '`') {
      if (src[i] === '\\') { i += 2; continue; }
      if (src[i] === '$' && src[i + 1] === '{') {
        let depth = 1;
        i += 2;
        while (i < src.length && depth > 0) {
          const c = src[i];
          if (c === '{') depth++;
          else if (c === '}') depth--;
          else if (c === '`') { skipTemplate(); continue; }
          else if (c === '"' || c === "'") { readString(c); continue; }
          i++;
        }
        continue;
      }
      i++;
    }
    i++; // the closing backtick
  };
  const readString = (quote: string): string => {
    let text = '';
    i++;
    while (i < src.length && src[i] !== quote && src[i] !== '\n') {
      if (src[i] === '\\') { text += src[i + 1] ?? ''; i += 2; continue; }
      text += src[i];
      i++;
    }
    i++;
    return text;
  };
  while (i < src.length) {
    const c = src[i] ?? '';
    const next = src[i + 1];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '/' && next === '/') { while (i < src.length && src[i] !== '\n') i++; continue; }
    if (c === '/' && next === '*') { const end = src.indexOf('*/', i + 2); i = end < 0 ? src.length : end + 2; continue; }
    if (c === '"' || c === "'") { out.push({ kind: 'string', text: readString(c) }); continue; }
    if (c === '`') { skipTemplate(); out.push({ kind: 'punct', text: '`' }); continue; }
    const prev = last();
    if (c === '/' && (prev === undefined || (prev.kind === 'punct' && REGEX_AFTER.has(prev.text)) || (prev.kind === 'word' && REGEX_AFTER_WORDS.has(prev.text)))) {
      i++;
      let inClass = false;
      while (i < src.length && src[i] !== '\n' && (inClass || src[i] !== '/')) {
        if (src[i] === '\\') i++;
        else if (src[i] === '[') inClass = true;
        else if (src[i] === ']') inClass = false;
        i++;
      }
      i++;
      while (/[a-z]/i.test(src[i] ?? '')) i++; // flags
      out.push({ kind: 'punct', text: '/regex/' });
      continue;
    }
    const word = /^[A-Za-z_$][\w$]*/.exec(src.slice(i, i + 64));
    if (word) { out.push({ kind: 'word', text: word[0] }); i += word[0].length; continue; }
    out.push({ kind: 'punct', text: c });
    i++;
  }
  return out;
}

/** The module specifiers `source` imports or refers to, in order. */
export function importSpecifiers(source: string): string[] {
  const t = tokenize(source);
  const specs: string[] = [];
  const is = (k: number, text: string): boolean => t[k]?.text === text && t[k]?.kind !== 'string';
  for (let k = 0; k < t.length; k++) {
    const tok = t[k];
    if (tok?.kind !== 'string') continue;
    const before = t[k - 1];
    // import 'x' · … from 'x' · import('x') · new URL('x', import.meta.url)
    if (before?.kind === 'word' && (before.text === 'from' || (before.text === 'import' && !is(k - 2, '.')))) specs.push(tok.text);
    else if (is(k - 1, '(') && is(k - 2, 'import')) specs.push(tok.text);
    else if (is(k - 1, '(') && is(k - 2, 'URL') && is(k - 3, 'new') && is(k + 1, ',') && is(k + 2, 'import') && is(k + 4, 'meta')) specs.push(tok.text);
  }
  return specs;
}

/** One import of one file: the file and the specifier relative to the repository root, and the specifier as written. */
export interface ImportEdge {
  /** The importing file, relative to the root, with forward slashes. */
  readonly file: string;
  /** What it imports: a root-relative path for a relative specifier, else the package specifier. */
  readonly target: string;
  readonly specifier: string;
}

/** Every import of every .ts/.tsx file under `dirs` (relative to `root`). */
export function importGraph(root: string, dirs: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const slash = (p: string): string => p.split(sep).join('/');
  for (const dir of dirs) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !/\.tsx?$/.test(entry.name)) continue;
      const path = join(entry.parentPath, entry.name);
      const file = slash(relative(root, path));
      for (const specifier of importSpecifiers(readFileSync(path, 'utf8'))) {
        const target = specifier.startsWith('.') ? slash(relative(root, resolve(dirname(path), specifier))) : specifier;
        edges.push({ file, target, specifier });
      }
    }
  }
  return edges;
}
