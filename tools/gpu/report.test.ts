import { describe, expect, it } from 'vitest';
import { formatBuildTable, formatExports, formatTable, parseStages, plan, rowKey, summarise, type TorchRow, type WebRow } from './report.ts';

describe('plan', () => {
  it('times MoVQ at two sides, the UNet at one, prior and text encoder once (full size)', () => {
    const rows = plan(['movq_decoder', 'unet', 'prior', 'text_encoder'], 'full');
    expect(rows.map((r) => r.key)).toEqual(['movq_decoder@512', 'movq_decoder@768', 'unet@512', 'prior', 'text_encoder']);
    expect(rows[2]!.shape).toBe('512×512, CFG batch 2');
  });

  it('uses toy sides for the tiny architecture', () => {
    expect(plan(['movq_decoder'], 'tiny').map((r) => r.side)).toEqual([64, 128]);
  });

  it('shares its keys with gpu_bench.py', () => {
    expect(rowKey('unet', 512)).toBe('unet@512');
    expect(rowKey('prior', 0)).toBe('prior');
  });
});

describe('parseStages', () => {
  it('keeps the given order and names the valid stages on a typo', () => {
    expect(parseStages('prior, unet')).toEqual(['prior', 'unet']);
    expect(() => parseStages('unet,vae')).toThrow(/unknown stage "vae".*movq_decoder, unet, prior, text_encoder/);
  });
});

describe('summarise', () => {
  it('takes the median (mean of the middle two for even counts) and the minimum', () => {
    expect(summarise([30, 10, 20])).toEqual({ medianMs: 20, minMs: 10 });
    expect(summarise([4, 1, 3, 2])).toEqual({ medianMs: 2.5, minMs: 1 });
    expect(summarise([])).toEqual({ medianMs: null, minMs: null });
  });
});

describe('formatTable', () => {
  const rows = plan(['movq_decoder', 'unet'], 'full');
  const torch: TorchRow[] = [
    { key: 'movq_decoder@512', dtype: 'fp16', ms: 41 },
    { key: 'movq_decoder@512', dtype: 'fp32', ms: 42.7 },
  ];
  const web: WebRow[] = [{
    key: 'movq_decoder@512', graph: 'fp32', ep: 'webgpu', sessionMs: 26_000, firstRunMs: 1_500,
    medianMs: 177, minMs: 170, runs: 5, maxAbs: 3,
  }];

  it('puts PyTorch and our figures side by side with their ratio to PyTorch fp32', () => {
    const lines = formatTable(rows, torch, web, new Map([['unet', 'export failed: out of memory']]));
    expect(lines[0]).toMatch(/^\| stage \| shape \| PyTorch fp16 ms \| PyTorch fp32 ms \| ORT-web WebGPU \(Dawn\) ms \| ratio/);
    expect(lines).toContain('| MoVQ decode | 512×512, batch 1 | 41.0 | 42.7 | 177.0 | 4.1× | fp32 | 26.0 | 1.5 | 5 |');
    expect(lines).toContain('| MoVQ decode | 768×768, batch 1 | – | – | not run | – | – | – | – | – |');
    expect(lines).toContain('| UNet step | 512×512, CFG batch 2 | – | – | export failed: out of memory | – | – | – | – | – |');
  });

  it('keeps a long status message to one short cell', () => {
    const long = `failed: ${'x'.repeat(300)} | with a pipe\nand a newline`;
    const line = formatTable(rows, [], [], new Map([['unet', long]]))[4]!;
    expect(line.split('|').length).toBe(12);
    expect(line).toContain('…');
  });

  it('shows a shape that got a session but no timed run', () => {
    const partial: WebRow[] = [{ ...web[0]!, medianMs: null, minMs: null, runs: 0 }];
    expect(formatTable(rows, torch, partial, new Map())[2]).toContain('| no timed run | – | fp32 | 26.0 | 1.5 | 0 |');
  });
});

describe('formatBuildTable', () => {
  it('puts each onnxruntime-web build side by side, with ratios, dispatches and compile times', () => {
    const rows = plan(['movq_decoder'], 'full');
    const torch: TorchRow[] = [{ key: 'movq_decoder@512', dtype: 'fp32', ms: 40 }];
    const work = { dispatches: 459, transposes: 0, submits: 30, uploads: 1, readBacks: 1 };
    const web: WebRow[] = [
      { key: 'movq_decoder@512', graph: 'fp32', ep: 'webgpu', sessionMs: 2_000, firstRunMs: 4_000, medianMs: 80, minMs: 78, runs: 5, maxAbs: 3, build: 'webgpu', work },
      { key: 'movq_decoder@512', graph: 'fp32', ep: 'webgpu', sessionMs: 2_200, firstRunMs: 26_700, medianMs: 656, minMs: 650, runs: 5, maxAbs: 3 },
    ];
    const lines = formatBuildTable(rows, torch, web, new Map([['movq_decoder', 'timed out']]), ['webgpu', 'jsep']);
    expect(lines[0]).toBe('| stage | shape | PyTorch fp16 ms | PyTorch fp32 ms | native EP (asyncify) ms | native EP (asyncify) ÷ fp32 | JSEP (legacy) ms | JSEP (legacy) ÷ fp32 | '
      + 'dispatches (native EP (asyncify) / JSEP (legacy)) | ORT graph | session s (webgpu / jsep) | first run s (webgpu / jsep) |');
    expect(lines[1]!.split('|').length).toBe(14);
    expect(lines[2]).toBe('| MoVQ decode | 512×512, batch 1 | – | 40.0 | 80.0 | 2.0× | 656.0 | 16.4× | 459 (0 transposes) / – | fp32 | 2.0 / 2.2 | 4.0 / 26.7 |');
    expect(lines[3]).toBe('| MoVQ decode | 768×768, batch 1 | – | – | timed out | – | timed out | – | – / – | – | – / – | – / – |');
  });
});

describe('formatExports', () => {
  it('lists size, time and phases per exported graph', () => {
    expect(formatExports([{ stage: 'unet', graph: 'int4 weights, fp32 compute', bytes: 1.137e9, export_s: 95.2, phases: { trace_s: 30.4, quantize_s: 41 } }]))
      .toEqual(['| exported stage | graph | size | export s | phases (s) |', '|---|---|---|---|---|',
        '| unet | int4 weights, fp32 compute | 1.137 GB | 95 | trace 30, quantize 41 |']);
    expect(formatExports([])).toEqual([]);
  });
});
