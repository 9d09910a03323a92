/**
 * Parity runner (SPEC §4): `npm run parity -- --golden DIR --bundle DIR [--ep wasm|webgpu]
 * [--runner node|chromium] [--tolerance-scale X] [--graph-capture on|off] [--verbose]`.
 * `--graph-capture on` runs the WebGPU loops' stages graph-captured (RuntimeOptions.graphCapture; default off).
 * Prints `name kind max_abs_err tolerance PASS|FAIL` per case, then `parity: N passed, M failed`;
 * exits non-zero if any case fails or cannot be read. wasm runs in Node by default, webgpu in
 * headless Chromium (SwiftShader without a GPU).
 */
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ParityEp } from './parity/core.ts';
import { loadParityEnv } from './parity/env.ts';
import { goldenFiles, runGoldenFiles } from './parity/files.ts';
import { bundleDirBlobs } from '../workers/testing/bundle-dir.ts';

interface Args { golden: string; bundle: string; ep: ParityEp; runner: 'node' | 'chromium'; scale: number; graphCapture: boolean; verbose: boolean }

function usage(msg: string): never {
  console.error(`parity: ${msg}\nusage: npm run parity -- --golden DIR --bundle DIR [--ep wasm|webgpu] [--runner node|chromium] [--tolerance-scale X] [--graph-capture on|off] [--verbose]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const golden = get('--golden') ?? usage('--golden DIR is required');
  const bundle = get('--bundle') ?? usage('--bundle DIR is required');
  const ep = (get('--ep') ?? 'wasm') as ParityEp;
  if (ep !== 'wasm' && ep !== 'webgpu') usage(`--ep must be wasm or webgpu, got ${ep}`);
  const runner = (get('--runner') ?? (ep === 'webgpu' ? 'chromium' : 'node')) as Args['runner'];
  if (runner !== 'node' && runner !== 'chromium') usage(`--runner must be node or chromium, got ${runner}`);
  const scale = Number(get('--tolerance-scale') ?? '1');
  if (!(scale > 0)) usage('--tolerance-scale must be a positive number');
  const capture = get('--graph-capture') ?? 'off';
  if (capture !== 'on' && capture !== 'off') usage(`--graph-capture must be on or off, got ${capture}`);
  return { golden: resolve(golden), bundle: resolve(bundle), ep, runner, scale, graphCapture: capture === 'on', verbose: argv.includes('--verbose') };
}

async function runInNode(args: Args, files: string[]): Promise<boolean[]> {
  const { env, engine } = await loadParityEnv({ kind: 'files', files: await bundleDirBlobs(args.bundle) }, args.ep, args.scale, args.graphCapture);
  const verdicts: boolean[] = [];
  for await (const r of runGoldenFiles(env, args.golden, files)) {
    console.log(r.line);
    if (args.verbose) for (const line of r.details) console.log(line);
    verdicts.push(r.pass);
  }
  await engine.dispose();
  return verdicts;
}

async function runInChromium(args: Args, files: string[]): Promise<boolean[]> {
  const { createServer } = await import('vite');
  const { launchBrowser } = await import('../e2e/support/browser.ts');
  const root = resolve(import.meta.dirname, '..');
  const server = await createServer({
    root,
    configFile: join(root, 'vite.config.ts'),
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null, fs: { allow: [root, args.bundle, args.golden] } },
    logLevel: 'error',
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('no dev server port');
  const base = `http://localhost:${address.port}`;
  const browser = await launchBrowser();
  const verdicts: boolean[] = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
    await page.goto(`${base}/tools/parity/harness.html`);
    const bundleUrl = `${base}/@fs${args.bundle}/`;
    for (const file of files) {
      const name = basename(file, '.json');
      const json = await readFile(join(args.golden, file), 'utf8');
      const r = await page.evaluate(
        async ([bundleUrl, ep, scale, capture, name, json]) => {
          const m = await import('/tools/parity/browser-entry.ts' as string);
          return m.runCase(bundleUrl, ep, scale, capture, name, json) as Promise<{ line: string; pass: boolean; details: string[] }>;
        },
        [bundleUrl, args.ep, args.scale, args.graphCapture, name, json] as const,
      );
      console.log(r.line);
      if (args.verbose) for (const line of r.details) console.log(line);
      verdicts.push(r.pass);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return verdicts;
}

const args = parseArgs(process.argv.slice(2));
const files = await goldenFiles(args.golden).catch((e: unknown) => usage(e instanceof Error ? e.message : String(e)));
let verdicts: boolean[];
try {
  verdicts = args.runner === 'node' ? await runInNode(args, files) : await runInChromium(args, files);
} catch (e) {
  console.error(`parity: could not run: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  console.log(`parity: 0 passed, ${files.length} failed`);
  process.exit(1);
}
const passed = verdicts.filter(Boolean).length;
const failed = verdicts.length - passed;
console.log(`parity: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
