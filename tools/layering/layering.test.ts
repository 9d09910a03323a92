import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importGraph, importSpecifiers, type ImportEdge } from './imports.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** A layering rule: files under `from` import nothing that `forbidden` matches. */
interface Rule {
  readonly from: string;
  readonly why: string;
  readonly forbidden: (target: string) => boolean;
}

const under = (...dirs: string[]) => (target: string): boolean => dirs.some((d) => target === d || target.startsWith(`${d}/`));
const packages = (...names: string[]) => (target: string): boolean => names.some((n) => target === n || target.startsWith(`${n}/`));

/** The layering README and STYLE.md describe: the editor engine is React-free and below the app; the workers never reach into the UI. */
const RULES: readonly Rule[] = [
  { from: 'src/editor', why: 'the editor engine has no React', forbidden: (t) => packages('react', 'react-dom')(t) || t === 'zustand' /* its React adapter; zustand/vanilla is fine */ },
  { from: 'src/editor', why: 'the editor engine sits below the app and the UI', forbidden: under('src/app', 'src/ui', 'src/modes', 'src/models', 'src/priors', 'src/pwa', 'src/main.tsx') },
  { from: 'workers', why: 'the workers never import the UI side', forbidden: under('src') },
];

function violations(edges: readonly ImportEdge[], rules: readonly Rule[]): string[] {
  return rules.flatMap((r) => edges
    .filter((e) => under(r.from)(e.file) && r.forbidden(e.target))
    .map((e) => `${e.file} imports '${e.specifier}' (${r.why})`));
}

describe('layering', () => {
  const edges = importGraph(ROOT, ['src', 'workers']);

  it('reads the import graph (sanity: known edges are found)', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ file: 'src/editor/compose.ts', target: 'workers/protocol.ts', specifier: '../../workers/protocol.ts' });
    expect(edges).toContainEqual({ file: 'src/ui/hooks.ts', target: 'react', specifier: 'react' });
    expect(edges.some((e) => e.file === 'src/app/engine-client.ts' && e.target === 'workers/generator.worker.ts')).toBe(true); // new URL(…, import.meta.url)
  });

  it('src/editor imports no React and nothing from the app, the UI or the feature folders; workers/ never imports src/', () => {
    expect(violations(edges, RULES)).toEqual([]);
    expect(edges.filter((e) => e.file.startsWith('src/editor/') && e.file.endsWith('.tsx'))).toEqual([]);
  });

  it('would catch a violation', () => {
    const bad: ImportEdge[] = [
      { file: 'src/editor/x.ts', target: 'react', specifier: 'react' },
      { file: 'src/editor/tools/y.ts', target: 'src/app/store.ts', specifier: '../../app/store.ts' },
      { file: 'workers/z.ts', target: 'src/editor/raster.ts', specifier: '../src/editor/raster.ts' },
      { file: 'src/editor/ok.ts', target: 'zustand/vanilla', specifier: 'zustand/vanilla' },
      { file: 'src/app/ok.ts', target: 'react', specifier: 'react' },
    ];
    expect(violations(bad, RULES)).toEqual([
      "src/editor/x.ts imports 'react' (the editor engine has no React)",
      "src/editor/tools/y.ts imports '../../app/store.ts' (the editor engine sits below the app and the UI)",
      "workers/z.ts imports '../src/editor/raster.ts' (the workers never import the UI side)",
    ]);
  });
});

describe('import scanner', () => {
  it('finds every form of import, and nothing in comments, strings, templates or regular expressions', () => {
    const src = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      'import {',
      '  c,',
      '  type D,',
      "} from \"./c.ts\";",
      "import './side-effect.css';",
      "export { e } from './e.ts';",
      "export * from './f.ts';",
      "const g = await import('./g.ts');",
      "const w = new Worker(new URL('./w.worker.ts', import.meta.url), { type: 'module' });",
      "// import { no } from './comment.ts';",
      "/* import no from './block.ts'; */",
      "const s = \"import x from './string.ts'\";",
      "const t = `import y from './template.ts' ${'x' + `nested`}`;",
      "const r = /[\"'`]import z from '.\\/regex.ts'/g;",
      "const q = a / 2 / 3; import h from './h.ts';",
      "const m = import.meta.env;",
    ].join('\n');
    expect(importSpecifiers(src)).toEqual(['./a.ts', '../b.ts', './c.ts', './side-effect.css', './e.ts', './f.ts', './g.ts', './w.worker.ts', './h.ts']);
  });
});
