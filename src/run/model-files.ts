// What a run's start-up check (src/run/check.ts) reads from a model directory without loading any weight:
// which of config.json, the tokenizer and the weights are present, the context length the model's
// config.json allows, and the parameter count it implies (for the disk the iterates will take).
//
// Two formats: a Hugging Face checkpoint (served by vLLM, trained by TRL), possibly a PEFT adapter whose
// config.json is its base model's; and psrlm's own checkpoint (src/engine/checkpoint.ts: config.json,
// tokenizer.json, model.safetensors).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface ModelFiles {
  dir: string;
  format: 'hf' | 'hf-adapter' | 'psrlm';
  /** What each required part was found as (file names), or null where it is missing. */
  config: string | null;
  tokenizer: string[] | null;
  weights: string[] | null;
  /** Required parts that are missing, said for a person (e.g. "weights (*.safetensors or pytorch_model*.bin)"). */
  missing: string[];
  /** Weight shards named by an index file that are not there. */
  missing_shards: string[];
  /** Bytes of the weight files present. */
  weight_bytes: number;
  /** The parsed config.json: the model's own, or an adapter's base model's when that is a local directory. */
  hf_config?: Record<string, unknown>;
  /** Where hf_config was read. */
  config_file?: string;
}

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};
const size = (f: string): number => {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
};

function readJSON(file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${file}: not a JSON object`);
  return v as Record<string, unknown>;
}

/** The files of a model directory; `format` is 'psrlm' for the embedded engine's checkpoints. */
export function inspectModelDir(dir: string, format: 'hf' | 'psrlm'): ModelFiles {
  const names = list(dir);
  const has = (n: string) => names.includes(n);
  const out: ModelFiles = {
    dir,
    format,
    config: null,
    tokenizer: null,
    weights: null,
    missing: [],
    missing_shards: [],
    weight_bytes: 0,
  };
  if (!existsSync(dir)) {
    out.missing.push('the directory itself');
    return out;
  }
  if (format === 'psrlm') {
    out.config = has('config.json') ? 'config.json' : null;
    out.tokenizer = has('tokenizer.json') ? ['tokenizer.json'] : null;
    out.weights = has('model.safetensors') ? ['model.safetensors'] : null;
  } else if (has('adapter_config.json')) {
    // a PEFT adapter: its weights are the adapter's, its architecture and length its base model's
    out.format = 'hf-adapter';
    out.config = 'adapter_config.json';
    const w = names.filter((n) => /^adapter_model\.(safetensors|bin)$/.test(n));
    out.weights = w.length ? w : null;
    const base = readJSON(path.join(dir, 'adapter_config.json')).base_model_name_or_path;
    if (typeof base === 'string' && existsSync(path.join(base, 'config.json'))) {
      out.config_file = path.join(base, 'config.json');
    }
    out.tokenizer = tokenizerFiles(names) ?? (typeof base === 'string' ? tokenizerFiles(list(base)) : null);
  } else {
    out.config = has('config.json') ? 'config.json' : null;
    out.tokenizer = tokenizerFiles(names);
    const index = names.find((n) => /^(model|pytorch_model)\.(safetensors|bin)\.index\.json$/.test(n));
    if (index) {
      // a sharded checkpoint: every shard its index names must be there (a download cut short leaves gaps)
      const map = readJSON(path.join(dir, index)).weight_map;
      const shards = [...new Set(Object.values(map && typeof map === 'object' ? map : {}).map(String))].sort();
      out.missing_shards = shards.filter((s) => !has(s));
      out.weights = [index, ...shards.filter(has)];
    } else {
      const w = names.filter((n) => /^(model.*\.safetensors|pytorch_model.*\.bin)$/.test(n));
      out.weights = w.length ? w : null;
    }
  }
  if (out.config === 'config.json') out.config_file = path.join(dir, 'config.json');
  if (out.format !== 'psrlm' && out.config_file) out.hf_config = readJSON(out.config_file);
  if (!out.config) out.missing.push('config.json');
  if (!out.tokenizer) {
    out.missing.push(
      format === 'psrlm' ? 'tokenizer.json' : 'the tokenizer (tokenizer.json, or vocab.json + merges.txt)',
    );
  }
  if (!out.weights) {
    out.missing.push(
      format === 'psrlm'
        ? 'model.safetensors'
        : out.format === 'hf-adapter'
          ? 'adapter_model.safetensors'
          : 'the weights (*.safetensors or pytorch_model*.bin)',
    );
  }
  out.weight_bytes = (out.weights ?? [])
    .filter((w) => !w.endsWith('.json'))
    .reduce((a, w) => a + size(path.join(dir, w)), 0);
  return out;
}

function tokenizerFiles(names: string[]): string[] | null {
  if (names.includes('tokenizer.json')) return ['tokenizer.json'];
  if (names.includes('vocab.json') && names.includes('merges.txt')) return ['vocab.json', 'merges.txt'];
  if (names.includes('tokenizer.model')) return ['tokenizer.model'];
  return null;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * The longest context the model's config.json allows, derived as vLLM derives it (vllm/config.py,
 * _get_and_verify_max_len, read in the 0.8.3 release): the smallest of the length keys present, times the
 * RoPE scaling factor except for the su, longrope and llama3 kinds (whose max_position_embeddings is already
 * the scaled one); yarn scales original_max_position_embeddings. null when no key is there.
 */
export function maxContext(cfg: Record<string, unknown>): { limit: number; key: string } | null {
  const keys = [
    'max_position_embeddings',
    'n_positions',
    'max_seq_len',
    'seq_length',
    'max_target_positions',
    'max_sequence_length',
    'max_seq_length',
    'seq_len',
  ];
  let best: { limit: number; key: string } | null = null;
  for (const k of keys) {
    const v = num(cfg[k]);
    if (v !== undefined && (!best || v < best.limit)) best = { limit: v, key: k };
  }
  const mml = num(cfg.model_max_length);
  if (mml !== undefined) best = { limit: mml, key: 'model_max_length' };
  if (!best) return null;
  const rs = cfg.rope_scaling as Record<string, unknown> | null | undefined;
  if (rs && typeof rs === 'object') {
    const type = String(rs.rope_type ?? rs.type ?? 'default');
    if (!['su', 'longrope', 'llama3'].includes(type)) {
      const factor = num(rs.factor) ?? 1;
      const base = type === 'yarn' ? (num(rs.original_max_position_embeddings) ?? best.limit) : best.limit;
      if (factor !== 1 || base !== best.limit) {
        best = { limit: Math.floor(base * factor), key: `${best.key} x rope_scaling` };
      }
    }
  }
  return best;
}

/**
 * Parameters of a decoder of the Llama/Qwen2 family from its config.json: embeddings, per layer the
 * attention (q, k, v with biases where attention_bias or the Qwen2 family has them, o) and the gated MLP
 * (gate, up, down) and two norms, the final norm, and an untied LM head. null when a key is missing or the
 * model is a mixture of experts (the shape differs; the weight files' size is used then).
 */
export function paramCount(cfg: Record<string, unknown>): number | null {
  const h = num(cfg.hidden_size),
    inter = num(cfg.intermediate_size),
    layers = num(cfg.num_hidden_layers);
  const heads = num(cfg.num_attention_heads),
    vocab = num(cfg.vocab_size);
  if (!h || !inter || !layers || !heads || !vocab) return null;
  if (num(cfg.num_experts) || num(cfg.num_local_experts) || num(cfg.n_routed_experts)) return null;
  const kv = num(cfg.num_key_value_heads) ?? heads;
  const headDim = num(cfg.head_dim) ?? h / heads;
  const qkvBias = cfg.attention_bias === true || cfg.model_type === 'qwen2';
  const q = h * heads * headDim,
    k = h * kv * headDim;
  const attn = q + 2 * k + heads * headDim * h + (qkvBias ? heads * headDim + 2 * kv * headDim : 0);
  const mlp = 3 * h * inter;
  const perLayer = attn + mlp + 2 * h;
  const tied = cfg.tie_word_embeddings === true;
  return vocab * h * (tied ? 1 : 2) + layers * perLayer + h;
}

/** Bytes per parameter of a dtype name (torch's or config.json's torch_dtype). */
export function dtypeBytes(dtype: string): number {
  return /(^|\.)(float32|float|fp32)$/.test(dtype) ? 4 : /(^|\.)(float64|double)$/.test(dtype) ? 8 : 2;
}
