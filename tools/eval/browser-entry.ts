/** Loaded into Chromium by tools/eval.ts to generate the held-out images on WebGPU (or wasm) in a page. */
import { Engine } from '../../workers/engine.ts';
import type { Text2ImgRequest } from '../../workers/protocol.ts';

let loaded: { url: string; ep: string; engine: Promise<Engine> } | null = null;

function engineFor(bundleUrl: string, ep: 'wasm' | 'webgpu'): Promise<Engine> {
  if (loaded && (loaded.url !== bundleUrl || loaded.ep !== ep)) {
    const old = loaded.engine;
    loaded = null;
    void old.then((e) => e.dispose());
  }
  loaded ??= { url: bundleUrl, ep, engine: Engine.load({ kind: 'url', baseUrl: bundleUrl }, { provider: ep }) };
  return loaded.engine;
}

/** Generate one image; pixels come back as base64 RGBA (page.evaluate carries strings cheaply). */
export async function generate(bundleUrl: string, ep: 'wasm' | 'webgpu', request: Text2ImgRequest): Promise<{ ep: string; width: number; height: number; rgba: string }> {
  const engine = await engineFor(bundleUrl, ep);
  const r = await engine.generate('eval', request);
  const { width, height, data } = r.images[0]!.image;
  let binary = '';
  for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
  return { ep: engine.runtime.ep, width, height, rgba: btoa(binary) };
}
