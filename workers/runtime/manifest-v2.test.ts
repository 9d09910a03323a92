import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors.ts';
import { dimRules, manifestFamily, parseManifest } from './manifest.ts';
import { thrownEngineError } from '../testing/engine-error.ts';
import { K21_HIDDEN, k21Manifest, tinyManifest22 } from '../testing/k21-manifest.ts';

type Json = Record<string, any>;

const bad21 = (edit: (m: Json) => void) => {
  const m = k21Manifest();
  edit(m);
  return thrownEngineError(() => parseManifest(m, 'k21/manifest.json'));
};

describe('manifest version 2 (docs/kandinsky-2-1.md)', () => {
  it('reads a Kandinsky 2.1 manifest: family, multilingual tokenizer and encoder, the 2.1 UNet inputs', () => {
    const m = parseManifest(k21Manifest(), 'k21/manifest.json');
    expect(m.version).toBe(2);
    expect(manifestFamily(m)).toBe('kandinsky-2.1');
    expect(m.text_multilingual).toEqual({ max_length: 77, tokenizer: 'tokenizer_multilingual/tokenizer.json' });
    expect(m.stages.text_encoder_multilingual?.inputs).toEqual({ input_ids: ['batch', 77], attention_mask: ['batch', 77] });
    expect(Object.keys(m.stages.unet?.inputs ?? {})).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'image_embeds']);
    expect(m.schedulers.decoder._class_name).toBe('DDIMScheduler');
  });

  it('a version 2 kandinsky-2.2 manifest means what version 1 means; version 1 is 2.2 whatever its family says', () => {
    const v1 = tinyManifest22();
    const v2 = { ...tinyManifest22(), version: 2 };
    expect({ ...parseManifest(v2, 'm'), version: 1 }).toEqual(parseManifest(v1, 'm'));
    expect(manifestFamily(parseManifest(v2, 'm'))).toBe('kandinsky-2.2');
    expect(manifestFamily(parseManifest({ ...tinyManifest22(), family: 'kandinsky-2.1' }, 'm'))).toBe('kandinsky-2.2');
    expect(manifestFamily(parseManifest({ ...tinyManifest22(), family: 'something else' }, 'm'))).toBe('kandinsky-2.2');
  });

  it('a version 1 manifest ignores a text_encoder_multilingual entry, as every unknown stage before', () => {
    const m = tinyManifest22();
    m.stages.text_encoder_multilingual = { nonsense: true };
    expect(parseManifest(m, 'm').stages.text_encoder_multilingual).toBeUndefined();
  });

  it('version 2 requires a known family', () => {
    for (const family of [undefined, 'kandinsky-3', 22]) {
      const e = thrownEngineError(() => parseManifest({ ...tinyManifest22(), version: 2, family }, 'm'));
      expect(e.code).toBe(ErrorCode.BadManifest);
      expect(e.message).toContain('"family"');
      expect(e.details.expected).toContain('"kandinsky-2.1", "kandinsky-2.2"');
    }
  });

  it('a 2.1 manifest without text_multilingual or without text_encoder_multilingual is BAD_MANIFEST naming the field', () => {
    const noText = bad21((m) => { delete m.text_multilingual; });
    expect(noText.code).toBe(ErrorCode.BadManifest);
    expect(noText.message).toMatch(/field "text_multilingual" should be an object \{max_length, tokenizer\}.*but is missing/);
    const noStage = bad21((m) => { delete m.stages.text_encoder_multilingual; });
    expect(noStage.code).toBe(ErrorCode.BadManifest);
    expect(noStage.message).toContain('"stages.text_encoder_multilingual"');
    expect(noStage.message).toContain('required stages of kandinsky-2.1: text_encoder, prior, text_encoder_multilingual, unet, movq_decoder');
    expect(bad21((m) => { m.text_multilingual.tokenizer = '../x.json'; }).message).toContain('text_multilingual.tokenizer');
  });

  it('a 2.1 UNet with the 2.2 inputs, or a 2.2 UNet with the 2.1 inputs, is BAD_MANIFEST', () => {
    const e = bad21((m) => { m.stages.unet.inputs = tinyManifest22().stages.unet.inputs; });
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toContain('stages.unet.inputs');
    expect(e.details.expected).toContain('[sample, timestep, encoder_hidden_states, text_embeds, image_embeds]');
    const m22 = tinyManifest22();
    m22.stages.unet.inputs = k21Manifest().stages.unet.inputs;
    expect(thrownEngineError(() => parseManifest(m22, 'm')).message).toContain('stages.unet.inputs');
  });

  it('ties the multilingual dims together: sequence length, embedding width, the UNet text width', () => {
    const width = bad21((m) => { m.stages.unet_inpaint.inputs.encoder_hidden_states = ['batch', 77, K21_HIDDEN + 1]; });
    expect(width.code).toBe(ErrorCode.BadManifest);
    expect(width.message).toContain('stages.unet_inpaint.inputs.encoder_hidden_states[2]');
    expect(width.details.expected).toContain(`${K21_HIDDEN} (stages.text_encoder_multilingual.outputs.last_hidden_state[2])`);
    expect(bad21((m) => { m.stages.text_encoder_multilingual.inputs.attention_mask = ['batch', 64]; }).message)
      .toContain('stages.text_encoder_multilingual.inputs.attention_mask[1]');
    expect(bad21((m) => { m.stages.unet.inputs.text_embeds = ['batch', 31]; }).details.expected).toContain('32 (embedding_dim)');
    // A symbolic width is checked against the graph when its session is created, not here.
    const symbolic = k21Manifest();
    symbolic.stages.text_encoder_multilingual.outputs.last_hidden_state = ['batch', 77, 'hidden'];
    const parsed = parseManifest(symbolic, 'm');
    expect(dimRules(parsed).some((r) => r.io === 'encoder_hidden_states' && r.axis === 2)).toBe(false);
  });

  it('bounds text_multilingual.max_length like text.max_length', () => {
    const e = bad21((m) => { m.text_multilingual.max_length = 100_000; });
    expect(e.code).toBe(ErrorCode.BadManifest);
    expect(e.message).toContain('text_multilingual.max_length');
    expect(e.details.expected).toContain('from 2 to 512');
  });
});
