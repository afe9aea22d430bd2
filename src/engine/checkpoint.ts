// Checkpoint directories (docs/engine.md, "Checkpoint directory"): config.json, tokenizer.json and
// model.safetensors, each written atomically; model.safetensors is written last, so a directory with it
// is complete. Loading checks every name and shape and says which one is off.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeJSONAtomic } from '../util/atomic.js';
import { validateConfig, type ModelConfig } from './config.js';
import type { GPT } from './model.js';
import { readSafetensors, writeSafetensors, type TensorEntry } from './safetensors.js';
import type { TokenizerJSON } from './tokenizer.js';

export function saveCheckpoint(
  dir: string,
  model: GPT,
  tokenizer: TokenizerJSON,
  manifest?: Record<string, unknown>,
): void {
  writeJSONAtomic(path.join(dir, 'config.json'), model.cfg);
  writeJSONAtomic(path.join(dir, 'tokenizer.json'), tokenizer);
  if (manifest) writeJSONAtomic(path.join(dir, 'manifest.json'), manifest);
  const f = model.heap.f32();
  const tensors = new Map<string, TensorEntry>();
  for (const p of model.layout.params) {
    const start = (model.params >>> 2) + p.offset;
    tensors.set(p.name, { shape: p.shape, data: f.slice(start, start + p.size) });
  }
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'psrlm-gpt' });
}

export interface LoadedCheckpoint {
  config: ModelConfig;
  tokenizer: TokenizerJSON;
  tensors: Map<string, TensorEntry>;
  manifest?: Record<string, unknown>;
}

export function readCheckpoint(dir: string): LoadedCheckpoint {
  const need = ['config.json', 'tokenizer.json', 'model.safetensors'];
  for (const f of need) {
    if (!existsSync(path.join(dir, f))) {
      throw new Error(`checkpoint ${dir}: ${f} is missing (a checkpoint directory holds ${need.join(', ')})`);
    }
  }
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as ModelConfig;
  validateConfig(config);
  const tokenizer = JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as TokenizerJSON;
  if (tokenizer.tokens?.length !== config.vocab_size) {
    throw new Error(
      `checkpoint ${dir}: tokenizer has ${tokenizer.tokens?.length} tokens but config.vocab_size ` +
        `is ${config.vocab_size}`,
    );
  }
  const { tensors } = readSafetensors(path.join(dir, 'model.safetensors'));
  const mpath = path.join(dir, 'manifest.json');
  const manifest = existsSync(mpath) ? (JSON.parse(readFileSync(mpath, 'utf8')) as Record<string, unknown>) : undefined;
  return { config, tokenizer, tensors, manifest };
}

/** Copies tensors into the model's parameter buffer, checking names and shapes. */
export function loadWeights(model: GPT, tensors: Map<string, TensorEntry>, where: string): void {
  const f = model.heap.f32();
  for (const p of model.layout.params) {
    const t = tensors.get(p.name);
    if (!t) throw new Error(`${where}: tensor ${p.name} is missing`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new Error(`${where}: tensor ${p.name} has shape [${t.shape}], expected [${p.shape}]`);
    }
    f.set(t.data, (model.params >>> 2) + p.offset);
  }
  const extra = [...tensors.keys()].filter((k) => !model.layout.byName.has(k));
  if (extra.length) throw new Error(`${where}: unexpected tensors ${extra.slice(0, 5).join(', ')}`);
}
