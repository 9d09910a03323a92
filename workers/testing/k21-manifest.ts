/**
 * Test helper: a hand-made version 2 Kandinsky 2.1 manifest (docs/kandinsky-2-1.md), derived from the tiny 2.2
 * bundle's manifest until the exporter ships a tiny 2.1 bundle: the multilingual tokenizer and encoder, the 2.1
 * UNet inputs (XLM-R states of width 24 here), the reference's DDIM decoder.
 */
import { readFileSync } from 'node:fs';

type Json = Record<string, any>;

/** The tiny 2.2 manifest as JSON. */
export function tinyManifest22(): Json {
  return JSON.parse(readFileSync(new URL('../../public/models/tiny-kandinsky-2-2/manifest.json', import.meta.url), 'utf8')) as Json;
}

/** Width of the multilingual token states in the hand-made manifest. */
export const K21_HIDDEN = 24;

/** A valid v2 kandinsky-2.1 manifest (stage files are the 2.2 ones: for parsing only). */
export function k21Manifest(): Json {
  const m = tinyManifest22();
  m.version = 2;
  m.family = 'kandinsky-2.1';
  m.name = 'hand-made-kandinsky-2-1';
  m.text_multilingual = { max_length: 77, tokenizer: 'tokenizer_multilingual/tokenizer.json' };
  const D = m.embedding_dim as number;
  m.stages.text_encoder_multilingual = {
    file: 'text_encoder_multilingual.onnx', bytes: 1000, sha256: 'a'.repeat(64),
    inputs: { input_ids: ['batch', 77], attention_mask: ['batch', 77] },
    outputs: { text_embeds: ['batch', D], last_hidden_state: ['batch', 77, K21_HIDDEN] },
  };
  for (const unet of ['unet', 'unet_inpaint']) {
    const inputs = m.stages[unet].inputs as Json;
    m.stages[unet].inputs = {
      sample: inputs.sample, timestep: inputs.timestep,
      encoder_hidden_states: ['batch', 77, K21_HIDDEN], text_embeds: ['batch', D], image_embeds: inputs.image_embeds,
    };
  }
  m.schedulers.decoder = { ...m.scheduler_alternatives.ddim };
  return m;
}
