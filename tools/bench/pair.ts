/**
 * Two bundles' stages timed in turns in one Node process on wasm (`npx tsx tools/bench/pair.ts --a DIR --b DIR
 * [--size 64] [--pairs 15]`): for a graph change, whether the new graph is slower on the CPU path. Each round
 * runs every stage of A then B (the order alternating between rounds), so load on a shared machine hits both
 * alike; prints per stage the medians and the median of the per-round ratios B / A. Figures only; asserts nothing.
 */
import { resolve } from 'node:path';
import { Engine } from '../../workers/engine.ts';
import { bundleDirBlobs } from '../../workers/testing/bundle-dir.ts';
import { stageCalls } from './core.ts';

const argv = process.argv.slice(2);
const arg = (flag: string, fallback?: string): string => {
  const i = argv.indexOf(flag);
  const v = i >= 0 ? argv[i + 1] : fallback;
  if (v === undefined) {
    console.error(`usage: npx tsx tools/bench/pair.ts --a DIR --b DIR [--size 64] [--pairs 15]; missing ${flag}`);
    process.exit(2);
  }
  return v;
};
const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

const dirs = [resolve(arg('--a')), resolve(arg('--b'))] as const;
const size = Number(arg('--size', '64'));
const pairs = Math.max(1, Number(arg('--pairs', '15')));
const engines = await Promise.all(dirs.map(async (d) => Engine.load({ kind: 'files', files: await bundleDirBlobs(d) }, { provider: 'wasm' })));
const calls = await Promise.all(engines.map((e) => stageCalls(e, size)));
const names = calls[0]!.map((c) => c.what);
if (calls[1]!.map((c) => c.what).join() !== names.join()) throw new Error('the two bundles have different stages');
for (const side of calls) for (const c of side) await c.run(); // warm-up: sessions and first runs
const ms: number[][][] = names.map(() => [[], []]);
for (let round = 0; round < pairs; round++) {
  const order = round % 2 === 0 ? [0, 1] : [1, 0];
  for (const [i] of names.entries()) {
    for (const side of order) {
      const t0 = performance.now();
      await calls[side]![i]!.run();
      ms[i]![side]!.push(performance.now() - t0);
    }
  }
}
console.log(`A ${dirs[0]}\nB ${dirs[1]}\nwasm, Node, ${size}×${size}, ${pairs} rounds, A and B in turns\n`);
console.log('| stage | A median ms | B median ms | B / A (median of per-round ratios) |\n|---|---|---|---|');
for (const [i, what] of names.entries()) {
  const [a, b] = ms[i]! as [number[], number[]];
  console.log(`| ${what} | ${median(a).toFixed(2)} | ${median(b).toFixed(2)} | ${median(a.map((x, k) => b[k]! / x)).toFixed(3)} |`);
}
await Promise.all(engines.map((e) => e.dispose()));
