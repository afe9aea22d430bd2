// M1 = SFT of a base model M0 on IFT + EFT (paper §3.1, docs/method.md §1 C: full parameters, 3 epochs,
// lr 1e-6, batch 32), for any checkpoint and on either trainer: the embedded engine (psrlm checkpoints) or TRL
// (Hugging Face checkpoints, under the user's launcher, with the token-boundary contract, src/train/trl.ts).
// `psrlm pretrain` builds the synthetic world's M1 from data it generates itself; this is the same step for
// records a user built with `psrlm data build | segment | eft` — e.g. Qwen2.5-Math-7B on GSM8K and MATH —
// so a real model's M1 goes through the pipeline (contract check, manifest, resume) like its later iterates.
//
// Input: JSONL files of records with `prompt`, `completion` and `eos` (src/data/schema.ts; every builder
// writes them). Loss on completion tokens only; the end-of-sequence token follows a completion unless its
// record says `eos: false`. The output directory is whole or absent (trained into a sibling, renamed),
// and its manifest holds the job key (model, data digests, options): the same command again reuses a
// finished checkpoint, an embedded run killed part-way resumes from its last snapshot (<out>.partial).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { EmbeddedEngine } from '../engine/embedded.js';
import type { SFTExample, StepInfo, TrainOptions, TrainResult } from '../engine/types.js';
import type { TrainerConfig } from './config.js';
import type { StageConfig } from './pretrain.js';
import { TrlTrainer } from './trl.js';

/** Optimisation settings of the SFT: a pretrain stage's settings plus the seed. */
export type SftSettings = StageConfig & { seed: number };

/** The paper's M1 recipe (docs/method.md §1 C); warmup and decay as the paper's DPO (cosine, warmup 0.1). */
export const PAPER_SFT: SftSettings = {
  epochs: 3,
  lr: 1e-6,
  batch_size: 32,
  warmup_frac: 0.1,
  min_lr_frac: 0,
  weight_decay: 0,
  seed: 1,
};

export interface SftJob {
  /** Starting checkpoint (M0): a psrlm checkpoint for the embedded trainer, a Hugging Face one for TRL. */
  model: string;
  /** JSONL files of {prompt, completion, eos} records (IFT and EFT). */
  data: string[];
  /** Where M1 goes. */
  out: string;
  trainer: TrainerConfig;
  settings: SftSettings;
  /** Embedded trainer: optimizer steps between snapshots in <out>.partial (0: none). */
  snapshot_every: number;
}

export interface DataFileInfo {
  file: string;
  sha256: string;
  records: number;
}

/** Reads and checks the records; a bad line stops with its file, line and what is wrong. */
export function readSftRecords(files: readonly string[]): { examples: SFTExample[]; files: DataFileInfo[] } {
  if (files.length === 0)
    throw new Error(
      'no data: give one or more JSONL files of {prompt, completion, eos} records (--data FILE, repeatable)',
    );
  const examples: SFTExample[] = [];
  const infos: DataFileInfo[] = [];
  for (const file of files) {
    if (!existsSync(file))
      throw new Error(
        `${file}: no such file (the SFT data are JSONL files written by psrlm data build, segment or eft)`,
      );
    const text = readFileSync(file, 'utf8');
    let n = 0;
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(line) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
      }
      const bad = (what: string) =>
        new Error(
          `${file}:${i + 1}: ${what}; an SFT record is {"prompt": string, "completion": non-empty string, ` +
            `"eos": boolean (optional, default true)}`,
        );
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw bad('not a JSON object');
      if (typeof r.prompt !== 'string') throw bad('"prompt" is missing or not a string');
      if (typeof r.completion !== 'string' || r.completion === '')
        throw bad('"completion" is missing, empty or not a string');
      if (r.eos !== undefined && typeof r.eos !== 'boolean') throw bad('"eos" is not a boolean');
      examples.push({ prompt: r.prompt, completion: r.completion, eos: r.eos !== false });
      n++;
    });
    if (n === 0) throw new Error(`${file}: no records`);
    infos.push({ file: path.resolve(file), sha256: createHash('sha256').update(text).digest('hex'), records: n });
  }
  return { examples, files: infos };
}

/** What the result depends on: the starting model, the data (by digest), the trainer and the settings. */
export function sftKey(job: SftJob, files: readonly DataFileInfo[]): string {
  // a psrlm or bridge checkpoint names itself in its manifest; a downloaded base model by its config
  const id = ['manifest.json', 'config.json'].map((f) => path.join(job.model, f)).find((f) => existsSync(f));
  const modelId = { path: path.resolve(job.model), id: id ? readFileSync(id, 'utf8') : null };
  const { env: _env, ...trainer } = job.trainer;
  const h = createHash('sha256').update(
    JSON.stringify({ model: modelId, data: files.map((f) => f.sha256), trainer, settings: job.settings }),
  );
  return h.digest('hex');
}

export interface SftResult {
  reused: boolean;
  key: string;
  steps: number;
  tokens: number;
  first_loss: number | null;
  final_loss: number;
  wall_s: number;
  history: StepInfo[];
}

/**
 * Trains M1 and writes it to `job.out` with a manifest (kind `psrlm-sft`: key, data files with digests and
 * counts, trainer, settings, result). `onStep` sees every optimizer step; `onResume(k, n)` an embedded run
 * that picks up at step k of n.
 */
export async function sftCheckpoint(
  job: SftJob,
  log: (s: string) => void = () => {},
  hooks: { onStep?: (s: StepInfo) => void; onResume?: (k: number, n: number) => void } = {},
): Promise<SftResult> {
  const { examples, files } = readSftRecords(job.data);
  const key = sftKey(job, files);
  const mf = path.join(job.out, 'manifest.json');
  if (existsSync(mf)) {
    type Job = { key?: string; result?: Omit<SftResult, 'reused' | 'key' | 'history'> };
    const m = JSON.parse(readFileSync(mf, 'utf8')) as { sft?: Job; pipeline?: { sft?: Job } };
    const done = m.sft ?? m.pipeline?.sft; // embedded: top level; TRL: beside the bridge's own keys
    if (done?.key === key && done.result) {
      log(`${job.out} already holds this SFT (same model, data and settings): reusing it`);
      return { reused: true, key, history: [], ...done.result };
    }
    throw new Error(
      `${job.out} already holds a different checkpoint (its manifest has another job key); choose another --out ` +
        `or remove it`,
    );
  }
  if (existsSync(job.out))
    throw new Error(
      `${job.out} exists but holds no manifest.json (not a finished checkpoint); choose another --out or remove it`,
    );
  const s = job.settings;
  const opts: TrainOptions = { ...s, onStep: hooks.onStep };
  const eos = examples.filter((e) => e.eos).length;
  log(
    `SFT of ${job.model} on ${examples.length} records ` +
      `(${files.map((f) => `${path.basename(f.file)}: ${f.records}`).join(', ')}; ${examples.length - eos} ` +
      `without EOS), trainer ${job.trainer.kind}`,
  );
  const meta = (r: TrainResult) => ({
    kind: 'psrlm-sft',
    parent: path.resolve(job.model),
    sft: {
      key,
      data: files,
      trainer: { ...job.trainer, env: Object.keys(job.trainer.env) },
      settings: s,
      result: {
        steps: r.steps,
        tokens: r.tokens,
        first_loss: r.history[0]?.loss ?? null,
        final_loss: r.final_loss,
        wall_s: r.wall_s,
      },
    },
    created: new Date().toISOString(),
  });
  mkdirSync(path.dirname(path.resolve(job.out)), { recursive: true });
  let r: TrainResult;
  if (job.trainer.kind === 'embedded') {
    const partial = `${job.out}.partial`;
    const engine = EmbeddedEngine.load(job.model);
    try {
      r = await engine.trainSFT(examples, {
        ...opts,
        snapshot:
          job.snapshot_every > 0
            ? { dir: partial, every: job.snapshot_every, log, onResume: hooks.onResume }
            : undefined,
      });
      // whole or absent: save beside, then rename into place
      const tmp = `${job.out}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      await engine.save(tmp, meta(r));
      renameSync(tmp, job.out);
      rmSync(partial, { recursive: true, force: true });
    } finally {
      await engine.close();
    }
  } else {
    const { kind: _kind, ...trl } = job.trainer; // the trainer section is TRL's options plus its kind
    const trainer = new TrlTrainer(job.model, `${job.out}.trl`, trl, log);
    r = await trainer.trainSFT(examples, opts);
    // the bridge's manifest (versions, settings) keeps its keys; the job goes under `pipeline`, written
    // before the checkpoint is renamed into place
    await trainer.save(job.out, meta(r));
  }
  log(
    `SFT done: ${r.steps} steps, ${r.tokens} tokens, final ` +
      `loss ${r.final_loss.toFixed(4)}, ${r.wall_s.toFixed(1)} s -> ${job.out}`,
  );
  return {
    reused: false,
    key,
    steps: r.steps,
    tokens: r.tokens,
    first_loss: r.history[0]?.loss ?? null,
    final_loss: r.final_loss,
    wall_s: r.wall_s,
    history: r.history,
  };
}
