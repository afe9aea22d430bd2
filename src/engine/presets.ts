// Named model sizes. `small` is the demo's default (see docs/engine.md and the world's design notes);
// the others bracket it for benchmarks and tests.
import type { ModelConfig } from './config.js';

export type Preset = Omit<ModelConfig, 'arch' | 'vocab_size' | 'n_inner' | 'ln_eps'>;

export const PRESETS: Record<string, Preset> = {
  tiny: { n_layer: 2, n_embd: 64, n_head: 4, n_ctx: 512 },
  small: { n_layer: 4, n_embd: 128, n_head: 4, n_ctx: 512 },
  medium: { n_layer: 6, n_embd: 256, n_head: 8, n_ctx: 512 },
};

export const DEMO_PRESET = 'small';

export function preset(name: string): Preset {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown model preset '${name}'; choose one of ${Object.keys(PRESETS).join(', ')}`);
  return p;
}
