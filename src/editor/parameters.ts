/**
 * Generation parameters as text, in the layout most PNG readers know ("parameters" chunk
 * of A1111-style tools): prompt line, "Negative prompt:" line, then "Key: value" pairs.
 */
import { MODES, SCHEDULER_KINDS, type CommonParams, type Mode, type SchedulerKind } from '../../workers/protocol.ts';

/** What the editor records about one generated image (re-usable to run it again): the shared parameters the engine used, and the panel's. */
export interface ImageParameters extends Pick<CommonParams, 'width' | 'height' | 'steps' | 'guidance' | 'priorSteps' | 'priorGuidance' | 'seed' | 'negativePrompt'> {
  readonly prompt: string;
  /** The style preset's id (src/app/presets.ts). */
  readonly style: string;
  readonly mode: Mode;
  readonly scheduler: SchedulerKind;
  readonly model: string;
  readonly ep: string;
  /** img2img: the share of the schedule re-run (src/modes). */
  readonly strength?: number;
  /** Image modes: input images (by content id) and texts with their weights, in order (src/modes). */
  readonly inputs?: readonly InputParameter[];
  /** The prior kind when it is not the diffusion prior (src/priors; `priorLabel`). */
  readonly prior?: string;
}

/** A result's prior as one line: "none", "linear: NAME (ID)", "linear: model", "blend 0.3, linear: NAME (ID)". */
export function priorLabel(p: { kind: string; linear?: { from: 'bundle' } | { from: 'user'; id: string; name: string }; linearWeight?: number }): string {
  const linear = p.linear === undefined ? '' : p.linear.from === 'bundle' ? 'linear: model' : `linear: ${p.linear.name} (${p.linear.id})`;
  switch (p.kind) {
    case 'linear': return linear;
    case 'blend': return `blend ${p.linearWeight ?? ''}, ${linear}`;
    default: return p.kind;
  }
}

/** One input of an image mode: an image by content id (kept in IndexedDB) or a text, with its weight. */
export type InputParameter =
  | { readonly kind: 'image'; readonly id: string; readonly weight: number }
  | { readonly kind: 'text'; readonly prompt: string; readonly weight: number };

const FIELDS = [
  ['Steps', 'steps'],
  ['Sampler', 'scheduler'],
  ['CFG scale', 'guidance'],
  ['Seed', 'seed'],
  ['Size', 'size'],
  ['Prior steps', 'priorSteps'],
  ['Prior CFG scale', 'priorGuidance'],
  ['Mode', 'mode'],
  ['Style', 'style'],
  ['Model', 'model'],
  ['EP', 'ep'],
] as const;

const quote = (v: string): string => (/[,:\n"]/.test(v) ? JSON.stringify(v) : v);

/** Parameters → text. Prompts keep their newlines escaped so the layout stays line-based. */
export function formatParameters(p: ImageParameters): string {
  const values: Record<string, string> = {
    steps: String(p.steps), scheduler: p.scheduler, guidance: String(p.guidance), seed: String(p.seed),
    size: `${p.width}x${p.height}`, priorSteps: String(p.priorSteps), priorGuidance: String(p.priorGuidance),
    mode: p.mode, style: p.style, model: p.model, ep: p.ep,
  };
  const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  const lines = [esc(p.prompt)];
  if (p.negativePrompt) lines.push(`Negative prompt: ${esc(p.negativePrompt)}`);
  const fields = FIELDS.map(([label, key]) => `${label}: ${quote(values[key] ?? '')}`);
  if (p.strength !== undefined) fields.push(`Strength: ${p.strength}`);
  if (p.inputs !== undefined) fields.push(`Inputs: ${quote(JSON.stringify(p.inputs))}`);
  if (p.prior !== undefined) fields.push(`Prior: ${quote(p.prior)}`);
  lines.push(fields.join(', '));
  return lines.join('\n');
}

/** Text → parameters; throws naming the missing field when the text is not ours. */
export function parseParameters(text: string): ImageParameters {
  const unesc = (s: string): string => s.replace(/\\(n|\\)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  let negativePrompt = '';
  if (lines.length > 1 && lines.at(-1)?.startsWith('Negative prompt: ')) negativePrompt = unesc((lines.pop() ?? '').slice(17));
  const prompt = unesc(lines.join('\n'));
  const kv = new Map<string, string>();
  const re = /\s*([^:,]+):\s*("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)/g;
  for (let m = re.exec(last); m && m[0] !== ''; m = re.exec(last)) {
    const raw = m[2] ?? '';
    kv.set((m[1] ?? '').trim(), raw.startsWith('"') ? (JSON.parse(raw) as string) : raw.trim());
  }
  const get = (label: string): string => {
    const v = kv.get(label);
    if (v === undefined) throw new Error(`parameters: expected a "${label}:" field, found ${[...kv.keys()].join(', ') || 'none'}`);
    return v;
  };
  const num = (label: string): number => {
    const n = Number(get(label));
    if (!Number.isFinite(n)) throw new Error(`parameters: "${label}" should be a number, got "${get(label)}"`);
    return n;
  };
  const oneOf = <T extends string>(label: string, values: readonly T[]): T => {
    const v = get(label);
    const found = values.find((x) => x === v);
    if (found === undefined) throw new Error(`parameters: "${label}" should be one of ${values.join(', ')}, got "${v}"`);
    return found;
  };
  const [w, h] = get('Size').split('x').map(Number);
  return {
    prompt, negativePrompt, style: get('Style'), mode: oneOf('Mode', MODES), width: w ?? NaN, height: h ?? NaN,
    steps: num('Steps'), guidance: num('CFG scale'), priorSteps: num('Prior steps'), priorGuidance: num('Prior CFG scale'),
    scheduler: oneOf('Sampler', SCHEDULER_KINDS), seed: num('Seed'), model: get('Model'), ep: get('EP'),
    ...(kv.has('Strength') ? { strength: num('Strength') } : {}),
    ...(kv.has('Inputs') ? { inputs: parseInputs(get('Inputs')) } : {}),
    ...(kv.has('Prior') ? { prior: get('Prior') } : {}),
  };
}

function parseInputs(text: string): InputParameter[] {
  const list: unknown = JSON.parse(text);
  const ok = (v: unknown): v is InputParameter => {
    const x = v as Partial<Record<string, unknown>> | null;
    return !!x && typeof x.weight === 'number' && ((x.kind === 'image' && typeof x.id === 'string') || (x.kind === 'text' && typeof x.prompt === 'string'));
  };
  if (!Array.isArray(list) || !list.every(ok)) throw new Error(`parameters: "Inputs" should be a list of {kind, id | prompt, weight}, got ${text.slice(0, 80)}`);
  return list;
}
