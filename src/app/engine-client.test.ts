import { describe, expect, it } from 'vitest';
import { expose } from 'comlink';
import { MessageChannel } from 'node:worker_threads';
import { ErrorCode } from '../../workers/errors.ts';
import { FAMILY_DEFAULTS, type BundleInfo, type EngineApi, type GenerateResult, type Progress, type Result } from '../../workers/protocol.ts';
import { modesOf } from '../../workers/storage/modes.ts';
import { EngineClient, type WorkerLike } from './engine-client.ts';

const info: BundleInfo = {
  name: 'stand-in', description: '', family: 'kandinsky-2.2', defaults: FAMILY_DEFAULTS['kandinsky-2.2'], embeddingDim: 32, stages: [],
  modes: { ...modesOf([]), text2img: true }, ep: 'wasm', shaderF16: false, warnings: [],
};

/** A worker whose far side is a scripted EngineApi on a MessageChannel (tests the client's wiring only). */
class ChannelWorker implements WorkerLike {
  private readonly channel = new MessageChannel();
  private readonly errors = new Set<(ev: Event) => void>();
  terminated = false;
  constructor(api: Partial<EngineApi>) {
    expose(api, this.channel.port2 as unknown as Parameters<typeof expose>[1]);
  }
  postMessage(message: unknown, transfer?: Transferable[]): void {
    this.channel.port1.postMessage(message, transfer as never);
  }
  addEventListener(type: string, listener: (ev: Event) => void): void {
    if (type === 'error') this.errors.add(listener);
    else this.channel.port1.addEventListener(type, listener as never);
    this.channel.port1.start();
  }
  removeEventListener(type: string, listener: (ev: Event) => void): void {
    if (type === 'error') this.errors.delete(listener);
    else this.channel.port1.removeEventListener(type, listener as never);
  }
  terminate(): void {
    this.terminated = true;
    this.channel.port1.close();
    this.channel.port2.close();
  }
  fail(): void {
    for (const l of this.errors) l(new Event('error'));
  }
}

describe('EngineClient', () => {
  it('starts the worker lazily, forwards progress and results', async () => {
    const workers: ChannelWorker[] = [];
    const client = new EngineClient(() => {
      const w = new ChannelWorker({
        load: async () => ({ ok: true, value: info }),
        generate: async (runId: string, _req: unknown, onProgress?: (p: Progress) => void) => {
          await onProgress?.({ runId, stage: 'unet', step: 1, total: 2, image: 0, numImages: 1, elapsedMs: 5 });
          return { ok: true, value: { runId, images: [], warnings: [], timings: { total: 0 } } } as Result<GenerateResult>;
        },
      });
      workers.push(w);
      return w;
    });
    expect(workers.length).toBe(0);
    const loaded = await client.load({ kind: 'url', baseUrl: 'x' }, { provider: 'wasm' });
    expect(loaded).toEqual({ ok: true, value: info });
    const seen: Progress[] = [];
    const r = await client.generate('r1', { mode: 'text2img', prompt: 'p' } as never, (p) => seen.push(p));
    expect(r.ok).toBe(true);
    expect(seen.map((p) => p.stage)).toEqual(['unet']);
    client.dispose();
  });

  it('a crash fails the pending run, starts a new worker and reloads the model', async () => {
    const workers: ChannelWorker[] = [];
    let loads = 0;
    const reloaded: Result<BundleInfo>[] = [];
    let crashes = 0;
    const client = new EngineClient(() => {
      const w = new ChannelWorker({
        load: async () => { loads++; return { ok: true, value: info }; },
        generate: () => new Promise(() => {}), // never finishes: the worker "hangs" then dies
      });
      workers.push(w);
      return w;
    }, { onCrash: () => crashes++, onReloaded: (r) => reloaded.push(r) });
    await client.load({ kind: 'url', baseUrl: 'x' }, { provider: 'wasm' });
    const pending = client.generate('r1', { mode: 'text2img' } as never, () => {});
    workers[0]?.fail();
    const r = await pending;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(ErrorCode.Internal);
    expect(workers[0]?.terminated).toBe(true);
    expect(crashes).toBe(1);
    await new Promise((res) => setTimeout(res, 20));
    expect(workers.length).toBe(2);
    expect(loads).toBe(2);
    expect(reloaded).toEqual([{ ok: true, value: info }]);
    client.dispose();
  });

  it('gives up reloading after repeated crashes, and starts afresh on the next call', async () => {
    const workers: ChannelWorker[] = [];
    let gaveUp = false;
    const client = new EngineClient(() => {
      const w = new ChannelWorker({ load: async () => ({ ok: true, value: info }) });
      workers.push(w);
      return w;
    }, { onGaveUp: () => { gaveUp = true; } });
    await client.load({ kind: 'url', baseUrl: 'x' }, { provider: 'wasm' });
    for (let i = 0; i < 4; i++) {
      workers.at(-1)?.fail();
      await new Promise((res) => setTimeout(res, 10));
    }
    expect(gaveUp).toBe(true);
    const n = workers.length;
    expect((await client.load({ kind: 'url', baseUrl: 'x' }, { provider: 'wasm' })).ok).toBe(true);
    expect(workers.length).toBe(n + 1);
    client.dispose();
  });

  it('a lost GPU device restarts the worker (a new device) and reloads; other pending calls get the same error', async () => {
    const workers: ChannelWorker[] = [];
    let loads = 0;
    const reasons: string[] = [];
    const reloaded: Result<BundleInfo>[] = [];
    const lost: Result<GenerateResult> = { ok: false, error: { code: ErrorCode.DeviceLost, message: 'The GPU device was lost (destroyed).' } };
    const client = new EngineClient(() => {
      const first = workers.length === 0;
      const w = new ChannelWorker({
        load: async () => { loads++; return { ok: true, value: info }; },
        generate: async (runId: string) => {
          if (!first) return { ok: true, value: { runId, images: [], warnings: [], timings: { total: 0 } } } as Result<GenerateResult>;
          if (runId === 'queued') return new Promise<Result<GenerateResult>>(() => {}); // behind the lost run in the worker's queue
          return lost;
        },
      });
      workers.push(w);
      return w;
    }, { onCrash: (reason) => reasons.push(reason), onReloaded: (r) => reloaded.push(r) });
    await client.load({ kind: 'url', baseUrl: 'x' }, { provider: 'webgpu' });
    const queued = client.generate('queued', { mode: 'text2img' } as never, () => {});
    const r = await client.generate('r1', { mode: 'text2img' } as never, () => {});
    expect(r).toEqual(lost);
    expect(await queued).toEqual(lost);
    expect(reasons).toEqual(['device-lost']);
    expect(workers[0]?.terminated).toBe(true);
    await new Promise((res) => setTimeout(res, 20));
    expect(loads).toBe(2);
    expect(reloaded).toEqual([{ ok: true, value: info }]);
    expect((await client.generate('r2', { mode: 'text2img' } as never, () => {})).ok).toBe(true);
    expect(client.restarts).toBe(1);
    client.dispose();
  });

  it('a reload that loses the device again restarts once more and reports only the last reload', async () => {
    const workers: ChannelWorker[] = [];
    const reloaded: Result<BundleInfo>[] = [];
    const lost: Result<BundleInfo> = { ok: false, error: { code: ErrorCode.DeviceLost, message: 'lost' } };
    const client = new EngineClient(() => {
      const n = workers.length;
      const w = new ChannelWorker({
        // Worker 0 loads, then loses its device in a run; worker 1 loses it while loading; worker 2 is fine.
        load: async () => (n === 1 ? lost : { ok: true, value: info }),
        generate: async () => ({ ok: false, error: { code: ErrorCode.DeviceLost, message: 'lost' } }) as Result<GenerateResult>,
      });
      workers.push(w);
      return w;
    }, { onReloaded: (r) => reloaded.push(r) });
    await client.load({ kind: 'url', baseUrl: 'x' }, { provider: 'webgpu' });
    await client.generate('r1', { mode: 'text2img' } as never, () => {});
    await new Promise((res) => setTimeout(res, 40));
    expect(workers.length).toBe(3);
    expect(reloaded).toEqual([{ ok: true, value: info }]);
    client.dispose();
  });
});
