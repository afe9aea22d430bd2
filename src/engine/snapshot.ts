// Mid-run training snapshots (TrainOptions.snapshot, docs/engine.md "Training snapshots"): a long SFT or
// DPO call killed part-way resumes at its last snapshot instead of starting over, and ends with the
// same weights, optimizer state and history, bit for bit, as a call never interrupted.
//
// Why this is enough for exactness: between optimizer steps the whole state of training is the weights,
// AdamW's m, v and step count t, and the counters reported in the history. The step plan is a pure
// function of (seed, data size, options); the learning rate is a function of the step index; the
// gradient buffer is zeroed at every step and activations are rebuilt; the worker thread holds nothing
// but a call counter, and the kernels reduce in a fixed order whatever the split (the numerics contract),
// so a fresh engine on a fresh heap continues exactly where the old one stopped.
//
// One file per snapshot, `snapshot.safetensors`: tensors `params`, `adam.m`, `adam.v` (flat, F32, the
// heap's layout) and the rest as JSON in the metadata, written atomically from views of the heap (no
// copy). One file means one rename: the weights and the step count they belong to can never disagree.
// A job key (SHA-256 of the starting weights, the model config, the encoded data and the options that
// shape the run) guards against resuming a snapshot of another job into this one.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { GPT } from './model.js';
import type { AdamW } from './optimizer.js';
import { readSafetensors, safetensorsParts, type TensorEntry } from './safetensors.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { SnapshotOptions, StepInfo, TrainOptions } from './types.js';

export const SNAPSHOT_FILE = 'snapshot.safetensors';
const FORMAT = 'psrlm-train-snapshot-1';

/** What a snapshot holds besides the three buffers. */
export interface SnapshotState {
  key: string;
  /** Optimizer steps done (the next step to run is step + 1). */
  step: number;
  /** Steps in the whole plan. */
  steps: number;
  /** AdamW's step counter (equals `step`: every training call starts a fresh optimizer). */
  t: number;
  tokens: number;
  /** Wall seconds spent training up to the snapshot, summed over resumed attempts. */
  wall_s: number;
  history: StepInfo[];
}

/**
 * The job's identity. Everything the result depends on goes in: the kind of training, the model config,
 * the starting weights (M1 resumed on a different M0 would be wrong), the encoded sequences in order
 * (tokenizer and data), `extra` figures (DPO's reference log-probs), and the options with their resolved
 * defaults. Left out: the callbacks and the snapshot settings themselves, which do not change the result.
 */
export function jobKey(
  kind: string,
  model: GPT,
  opts: TrainOptions,
  resolved: object,
  seqs: ReadonlyArray<{ ids: number[]; start: number }>,
  extra: number[] = [],
): string {
  const h = createHash('sha256');
  const { onStep: _onStep, snapshot: _snapshot, ...rest } = opts;
  h.update(JSON.stringify({ format: FORMAT, kind, config: model.cfg, opts: rest, resolved }));
  h.update(heapBytes(model, model.params));
  for (const s of seqs) {
    h.update(new Uint8Array(Int32Array.of(s.start, s.ids.length).buffer));
    h.update(new Uint8Array(Int32Array.from(s.ids).buffer));
  }
  h.update(new Uint8Array(Float64Array.from(extra).buffer));
  return h.digest('hex');
}

/** A view (no copy) of one flat parameter-sized buffer in the heap. */
function heapBytes(model: GPT, ptr: number): Uint8Array {
  return new Uint8Array(model.heap.memory.buffer, ptr, model.layout.total * 4);
}

function heapTensor(model: GPT, ptr: number): TensorEntry {
  const n = model.layout.total;
  return { shape: [n], data: new Float32Array(model.heap.memory.buffer, ptr, n) };
}

export function validateSnapshotOptions(s: SnapshotOptions, what: string): void {
  if (!Number.isInteger(s.every) || s.every < 1)
    throw new Error(`${what}: snapshot.every must be a positive integer, got ${s.every}`);
  if (!s.dir) throw new Error(`${what}: snapshot.dir is empty`);
}

/** Writes the snapshot (replacing the previous one in one rename). */
export function writeSnapshot(dir: string, model: GPT, opt: AdamW, state: SnapshotState): void {
  const tensors = new Map<string, TensorEntry>([
    ['params', heapTensor(model, model.params)],
    ['adam.m', heapTensor(model, opt.m)],
    ['adam.v', heapTensor(model, opt.v)],
  ]);
  writeFileAtomic(
    path.join(dir, SNAPSHOT_FILE),
    safetensorsParts(tensors, { format: FORMAT, state: JSON.stringify(state) }),
  );
}

/**
 * Restores the snapshot in `dir` into the model and optimizer when it belongs to this job and returns its
 * state; otherwise leaves both untouched, says why through `log` (a snapshot that exists but is not
 * used is never silent) and returns undefined.
 */
export function restoreSnapshot(
  dir: string,
  key: string,
  steps: number,
  model: GPT,
  opt: AdamW,
  log: (line: string) => void,
): SnapshotState | undefined {
  const file = path.join(dir, SNAPSHOT_FILE);
  // a kill in the middle of a write leaves its temporary file (src/util/atomic.ts names it
  // .snapshot.safetensors.<pid>.<n>.tmp); it is never read, only in the way
  if (existsSync(dir)) {
    for (const f of readdirSync(dir))
      if (f.startsWith(`.${SNAPSHOT_FILE}.`) && f.endsWith('.tmp')) rmSync(path.join(dir, f), { force: true });
  }
  if (!existsSync(file)) return undefined;
  const ignore = (why: string): undefined => {
    log(
      `training snapshot ${file}: ${why}; ignoring it and training from the start (it is replaced at the first ` +
        `new snapshot)`,
    );
    return undefined;
  };
  let tensors: Map<string, TensorEntry>, metadata: Record<string, string>;
  try {
    ({ tensors, metadata } = readSafetensors(file));
  } catch (e) {
    return ignore(`unreadable (${(e as Error).message})`);
  }
  if (metadata.format !== FORMAT) return ignore(`format '${metadata.format}', expected '${FORMAT}'`);
  let st: SnapshotState;
  try {
    st = JSON.parse(metadata.state ?? '') as SnapshotState;
  } catch {
    return ignore('its state is not valid JSON');
  }
  if (st.key !== key)
    return ignore('it belongs to a different training job (other starting weights, data, seed or options)');
  if (
    st.steps !== steps ||
    !Number.isInteger(st.step) ||
    st.step < 1 ||
    st.step > steps ||
    st.t !== st.step ||
    st.history?.length !== st.step
  ) {
    return ignore(
      `inconsistent state (step ${st.step}, t ${st.t}, ${st.history?.length} history entries, plan ` +
        `of ${st.steps} steps vs ${steps})`,
    );
  }
  const n = model.layout.total;
  const bufs: Array<[string, number]> = [
    ['params', model.params],
    ['adam.m', opt.m],
    ['adam.v', opt.v],
  ];
  for (const [name] of bufs) {
    const t = tensors.get(name);
    if (!t || t.shape.length !== 1 || t.shape[0] !== n) return ignore(`tensor ${name} is missing or not [${n}]`);
  }
  const f = model.heap.f32();
  for (const [name, ptr] of bufs) f.set(tensors.get(name)!.data, ptr >>> 2);
  opt.t = st.t;
  return st;
}
