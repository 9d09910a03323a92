/**
 * The GPU comparison table (issue 5 item 9): which stage runs at which shape, PyTorch figures
 * from tools/export/gpu_bench.py, our runtime's figures from tools/gpu/webgpu-bench.ts.
 * Pure functions: no I/O, no onnxruntime.
 */

/** Stages the GPU comparison times, in the order they are run (most important first). */
export const BENCH_STAGES = ['movq_decoder', 'unet', 'prior', 'text_encoder'] as const;
export type BenchStage = (typeof BENCH_STAGES)[number];

/** Pixel sides per architecture size; prior and text encoder have no side. */
export const SIDES = {
  full: { movq_decoder: [512, 768], unet: [512] },
  tiny: { movq_decoder: [64, 128], unet: [64] },
} as const;
export type BenchSize = keyof typeof SIDES;

/** One measurement point: a stage at one shape. `key` is shared with gpu_bench.py's JSON. */
export interface PlannedRow {
  readonly key: string;
  readonly stage: BenchStage;
  /** Pixel side (square image), or 0 for stages without one. */
  readonly side: number;
  readonly label: string;
  readonly shape: string;
}

/** A PyTorch figure from gpu_bench.py (`--torch-json`): mean ms of one stage at one shape. */
export interface TorchRow {
  readonly key: string;
  readonly dtype: 'fp16' | 'fp32';
  readonly ms: number;
}

/** Our runtime at one shape: session creation, first (compiling) run, then timed runs. */
export interface WebRow {
  readonly key: string;
  /** e.g. "fp32", "int8 weights, fp32 compute". */
  readonly graph: string;
  readonly ep: string;
  readonly sessionMs: number;
  readonly firstRunMs: number;
  /** Median of the timed runs; null when none finished. */
  readonly medianMs: number | null;
  readonly minMs: number | null;
  readonly runs: number;
  /** max |output| of the first run (a sanity figure: finite, non-zero). */
  readonly maxAbs: number;
  /** The onnxruntime-web build (`webgpu` = native EP, asyncify; `jsep` = legacy); absent in older rows (JSEP). */
  readonly build?: string;
  /** GPU work of one timed run (workers/runtime/gpu-work.ts), when counted. */
  readonly work?: { readonly dispatches: number; readonly transposes: number; readonly submits: number; readonly uploads: number; readonly readBacks: number };
}

/** What the table calls each onnxruntime-web build. */
export const BUILD_LABEL: Readonly<Record<string, string>> = {
  webgpu: 'native EP (asyncify)', jspi: 'native EP (JSPI)', jsep: 'JSEP (legacy)',
  'webgpu+bound': 'native EP, bound (GPU loop)', 'webgpu+capture': 'native EP, bound + graph capture',
  'jspi+bound': 'native EP (JSPI), bound', 'jspi+capture': 'native EP (JSPI), bound + graph capture',
};

/** "batch 2 x 77" style shapes for stages without a pixel side, as the pipelines call them. */
const FIXED_SHAPE = { prior: 'batch 2 (CFG)', text_encoder: 'batch 2 × 77 tokens' } as const;
const LABEL = {
  movq_decoder: 'MoVQ decode', unet: 'UNet step', prior: 'prior step', text_encoder: 'text encoder',
} as const satisfies Record<BenchStage, string>;

/** Row key shared with gpu_bench.py: "stage@side", or the stage alone when it has no side. */
export function rowKey(stage: BenchStage, side: number): string {
  return side > 0 ? `${stage}@${side}` : stage;
}

/** The rows to measure for these stages at this architecture size. */
export function plan(stages: readonly BenchStage[], size: BenchSize): PlannedRow[] {
  const rows: PlannedRow[] = [];
  for (const stage of stages) {
    switch (stage) {
      case 'movq_decoder':
      case 'unet':
        for (const side of SIDES[size][stage]) {
          const batch = stage === 'unet' ? 'CFG batch 2' : 'batch 1';
          rows.push({ key: rowKey(stage, side), stage, side, label: LABEL[stage], shape: `${side}×${side}, ${batch}` });
        }
        break;
      case 'prior':
      case 'text_encoder':
        rows.push({ key: rowKey(stage, 0), stage, side: 0, label: LABEL[stage], shape: FIXED_SHAPE[stage] });
        break;
      default: {
        const never: never = stage;
        throw new Error(`unknown stage ${String(never)}`);
      }
    }
  }
  return rows;
}

/** Parses a comma-separated stage list; names the valid ones on a typo. */
export function parseStages(text: string): BenchStage[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const valid: readonly string[] = BENCH_STAGES;
  for (const n of names) {
    if (!valid.includes(n)) throw new Error(`unknown stage "${n}"; expected some of ${BENCH_STAGES.join(', ')}`);
  }
  return names as BenchStage[];
}

const ms = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const seconds = (x: number): string => (x / 1000).toFixed(1);
/** A status message fit for a table cell: one line, no pipes, at most 120 characters. */
const cell = (text: string): string => {
  const flat = text.replace(/\s+/g, ' ').replace(/\|/g, '/');
  return flat.length > 120 ? `${flat.slice(0, 119)}…` : flat;
};

/**
 * The markdown table: stage | shape | PyTorch fp16 ms | PyTorch fp32 ms | ORT-web WebGPU (Dawn) ms | ratio | ...
 * `ratio` is ORT-web over PyTorch fp32 (both compute in fp32). `status` explains rows without a figure.
 */
export function formatTable(
  rows: readonly PlannedRow[],
  torch: readonly TorchRow[],
  web: readonly WebRow[],
  status: ReadonlyMap<BenchStage, string>,
  epLabel = 'ORT-web WebGPU (Dawn)',
): string[] {
  const lines = [
    `| stage | shape | PyTorch fp16 ms | PyTorch fp32 ms | ${epLabel} ms | ratio (ORT / PyTorch fp32) | ORT graph | session s | first run s | runs |`,
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const t16 = torch.find((t) => t.key === r.key && t.dtype === 'fp16');
    const t32 = torch.find((t) => t.key === r.key && t.dtype === 'fp32');
    const w = web.find((x) => x.key === r.key);
    const ratio = w?.medianMs != null && t32 ? `${(w.medianMs / t32.ms).toFixed(1)}×` : '–';
    const webCell = w ? (w.medianMs === null ? 'no timed run' : ms(w.medianMs)) : cell(status.get(r.stage) ?? 'not run');
    lines.push(`| ${r.label} | ${r.shape} | ${ms(t16?.ms)} | ${ms(t32?.ms)} | ${webCell} | ${ratio} | ${w?.graph ?? '–'} | ` +
      `${w ? seconds(w.sessionMs) : '–'} | ${w ? seconds(w.firstRunMs) : '–'} | ${w ? w.runs : '–'} |`);
  }
  return lines;
}

/**
 * The comparison table, one column group per onnxruntime-web build (in `builds` order): its median,
 * its ratio to PyTorch fp32, its dispatches per run, session and first-run seconds.
 */
export function formatBuildTable(
  rows: readonly PlannedRow[],
  torch: readonly TorchRow[],
  web: readonly WebRow[],
  status: ReadonlyMap<BenchStage, string>,
  builds: readonly string[],
): string[] {
  const label = (b: string): string => BUILD_LABEL[b] ?? b;
  const head = ['stage', 'shape', 'PyTorch fp16 ms', 'PyTorch fp32 ms'];
  for (const b of builds) head.push(`${label(b)} ms`, `${label(b)} ÷ fp32`);
  head.push(`dispatches (${builds.map(label).join(' / ')})`, 'ORT graph', `session s (${builds.join(' / ')})`, `first run s (${builds.join(' / ')})`);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const t16 = torch.find((t) => t.key === r.key && t.dtype === 'fp16');
    const t32 = torch.find((t) => t.key === r.key && t.dtype === 'fp32');
    const ws = builds.map((b) => web.find((x) => x.key === r.key && (x.build ?? 'jsep') === b));
    const cells = [r.label, r.shape, ms(t16?.ms), ms(t32?.ms)];
    for (const w of ws) {
      cells.push(w ? (w.medianMs === null ? 'no timed run' : ms(w.medianMs)) : cell(status.get(r.stage) ?? 'not run'));
      cells.push(w?.medianMs != null && t32 ? `${(w.medianMs / t32.ms).toFixed(1)}×` : '–');
    }
    cells.push(ws.map((w) => (w?.work ? `${w.work.dispatches} (${w.work.transposes} transposes)` : '–')).join(' / '));
    cells.push(ws.find((w) => w)?.graph ?? '–');
    cells.push(ws.map((w) => (w ? seconds(w.sessionMs) : '–')).join(' / '), ws.map((w) => (w ? seconds(w.firstRunMs) : '–')).join(' / '));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines;
}

/** Median and minimum of a list of times (empty: nulls). */
export function summarise(times: readonly number[]): { medianMs: number | null; minMs: number | null } {
  if (times.length === 0) return { medianMs: null, minMs: null };
  const sorted = [...times].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { medianMs: median, minMs: sorted[0]! };
}

/** What gpu_bench.py --web-export reports about one exported graph (stage.json). */
export interface ExportInfo {
  readonly stage: string;
  readonly graph: string;
  readonly bytes: number;
  readonly export_s: number;
  readonly phases?: Readonly<Record<string, number>>;
}

/** The exports table: size and time of each graph, with the time per phase. */
export function formatExports(exports: readonly ExportInfo[]): string[] {
  if (exports.length === 0) return [];
  const lines = ['| exported stage | graph | size | export s | phases (s) |', '|---|---|---|---|---|'];
  for (const x of exports) {
    const phases = Object.entries(x.phases ?? {}).map(([k, v]) => `${k.replace(/_s$/, '')} ${v.toFixed(0)}`).join(', ');
    lines.push(`| ${x.stage} | ${x.graph} | ${(x.bytes / 1e9).toFixed(3)} GB | ${x.export_s.toFixed(0)} | ${phases} |`);
  }
  return lines;
}
