// The model's shape (docs/engine.md, "Model") with validation that says what to change, and the
// parameter layout: every parameter lives in one flat fp32 buffer so gradients, Adam moments and
// checkpoints are single blocks. The weight matrices that take weight decay come first, so AdamW runs
// as two kernel calls (decayed, not decayed) instead of one per tensor.

export interface ModelConfig {
  arch: 'psrlm-gpt';
  vocab_size: number;
  n_ctx: number;
  n_layer: number;
  n_embd: number;
  n_head: number;
  n_inner: number;
  ln_eps: number;
}

export function modelConfig(c: Partial<ModelConfig> & Pick<ModelConfig, 'vocab_size'>): ModelConfig {
  const n_embd = c.n_embd ?? 128;
  const cfg: ModelConfig = {
    arch: 'psrlm-gpt',
    vocab_size: c.vocab_size,
    n_ctx: c.n_ctx ?? 256,
    n_layer: c.n_layer ?? 4,
    n_embd,
    n_head: c.n_head ?? 4,
    n_inner: c.n_inner ?? 4 * n_embd,
    ln_eps: c.ln_eps ?? 1e-5,
  };
  validateConfig(cfg);
  return cfg;
}

export function validateConfig(c: ModelConfig): void {
  const bad = (msg: string) => {
    throw new Error(`model config: ${msg}`);
  };
  if (c.arch !== 'psrlm-gpt') bad(`arch must be "psrlm-gpt", got ${JSON.stringify(c.arch)}`);
  for (const k of ['vocab_size', 'n_ctx', 'n_layer', 'n_embd', 'n_head', 'n_inner'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) bad(`${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.n_embd % c.n_head !== 0) bad(`n_embd (${c.n_embd}) must be divisible by n_head (${c.n_head})`);
  if ((c.n_embd / c.n_head) % 4 !== 0)
    bad(`head size n_embd/n_head = ${c.n_embd / c.n_head} must be a multiple of 4 (SIMD lanes)`);
  if (c.n_inner % 4 !== 0) bad(`n_inner (${c.n_inner}) must be a multiple of 4`);
  if (!(c.ln_eps > 0)) bad(`ln_eps must be positive, got ${c.ln_eps}`);
}

export interface ParamInfo {
  name: string;
  shape: number[];
  /** Offset in floats into the flat parameter buffer. */
  offset: number;
  size: number;
  decay: boolean;
  /** Initial standard deviation (0 for biases; layernorm weights are ones). */
  init: 'normal' | 'normal_residual' | 'zeros' | 'ones';
}

export interface ParamLayout {
  params: ParamInfo[];
  byName: Map<string, ParamInfo>;
  total: number;
  /** Floats [0, decayEnd) take weight decay. */
  decayEnd: number;
}

export function paramLayout(c: ModelConfig): ParamLayout {
  const C = c.n_embd,
    F = c.n_inner;
  const specs: Array<Omit<ParamInfo, 'offset' | 'size'>> = [];
  for (let l = 0; l < c.n_layer; l++) {
    specs.push({ name: `h.${l}.attn.qkv.weight`, shape: [C, 3 * C], decay: true, init: 'normal' });
    specs.push({ name: `h.${l}.attn.proj.weight`, shape: [C, C], decay: true, init: 'normal_residual' });
    specs.push({ name: `h.${l}.mlp.fc.weight`, shape: [C, F], decay: true, init: 'normal' });
    specs.push({ name: `h.${l}.mlp.proj.weight`, shape: [F, C], decay: true, init: 'normal_residual' });
  }
  specs.push({ name: 'wte', shape: [c.vocab_size, C], decay: false, init: 'normal' });
  specs.push({ name: 'wpe', shape: [c.n_ctx, C], decay: false, init: 'normal' });
  for (let l = 0; l < c.n_layer; l++) {
    specs.push({ name: `h.${l}.ln1.weight`, shape: [C], decay: false, init: 'ones' });
    specs.push({ name: `h.${l}.ln1.bias`, shape: [C], decay: false, init: 'zeros' });
    specs.push({ name: `h.${l}.attn.qkv.bias`, shape: [3 * C], decay: false, init: 'zeros' });
    specs.push({ name: `h.${l}.attn.proj.bias`, shape: [C], decay: false, init: 'zeros' });
    specs.push({ name: `h.${l}.ln2.weight`, shape: [C], decay: false, init: 'ones' });
    specs.push({ name: `h.${l}.ln2.bias`, shape: [C], decay: false, init: 'zeros' });
    specs.push({ name: `h.${l}.mlp.fc.bias`, shape: [F], decay: false, init: 'zeros' });
    specs.push({ name: `h.${l}.mlp.proj.bias`, shape: [C], decay: false, init: 'zeros' });
  }
  specs.push({ name: 'ln_f.weight', shape: [C], decay: false, init: 'ones' });
  specs.push({ name: 'ln_f.bias', shape: [C], decay: false, init: 'zeros' });
  let offset = 0;
  let decayEnd = 0;
  const params: ParamInfo[] = [];
  for (const s of specs) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    // keep every tensor 16-float aligned (64 bytes) for the SIMD loads
    params.push({ ...s, offset, size });
    offset += Math.ceil(size / 16) * 16;
    if (s.decay) decayEnd = offset;
  }
  return { params, byName: new Map(params.map((p) => [p.name, p])), total: offset, decayEnd };
}

export function countParams(c: ModelConfig): number {
  return paramLayout(c).params.reduce((a, p) => a + p.size, 0);
}
