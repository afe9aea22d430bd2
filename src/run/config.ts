// The run's one typed config (`psrlm run <config.yaml>`), checked with zod in strict mode: an unknown key
// or a wrong type is an error that names the key, so a typo cannot silently fall back to a default.
// Every OPEN choice of the paper (docs/paper-notes §3) is an option here, defaulting to the notes'
// reading; the fully resolved config is written into the run's manifest.json.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_SEARCH } from '../search/search.js';
import { DEFAULT_STEPDPO } from '../train/stepdpo.js';
import { DEFAULT_SRLM } from './srlm.js';

const int = (min = 0) => z.number().int().min(min);
const prob = z.number().gt(0).max(1);

export const SearchSchema = z.object({
  candidates: int(2).default(DEFAULT_SEARCH.candidates),
  temperature: z.number().min(0).default(DEFAULT_SEARCH.temperature),
  top_p: prob.default(DEFAULT_SEARCH.top_p),
  max_step_tokens: int(1).default(DEFAULT_SEARCH.max_step_tokens),
  judge_max_tokens: int(1).default(DEFAULT_SEARCH.judge_max_tokens),
  both_orders: z.boolean().default(DEFAULT_SEARCH.both_orders),
  max_steps: int(1).default(DEFAULT_SEARCH.max_steps),
  max_rollbacks: int(0).default(DEFAULT_SEARCH.max_rollbacks),
  identical: z.enum(['accept', 'rollback']).default(DEFAULT_SEARCH.identical),
  batch_problems: int(1).default(DEFAULT_SEARCH.batch_problems),
}).strict();

export const DPOSchema = z.object({
  beta: z.number().gt(0).default(DEFAULT_STEPDPO.beta),
  lr: z.number().gt(0).default(DEFAULT_STEPDPO.lr),
  epochs: z.number().gt(0).default(DEFAULT_STEPDPO.epochs),
  batch_size: int(1).default(DEFAULT_STEPDPO.batch_size),
  warmup_frac: z.number().min(0).max(1).default(DEFAULT_STEPDPO.warmup_frac),
  min_lr_frac: z.number().min(0).max(1).default(DEFAULT_STEPDPO.min_lr_frac),
  weight_decay: z.number().min(0).default(DEFAULT_STEPDPO.weight_decay),
  grad_clip: z.number().gt(0).default(DEFAULT_STEPDPO.grad_clip),
}).strict();

export const SrlmSchema = z.object({
  samples: int(2).default(DEFAULT_SRLM.samples),
  score_samples: int(1).default(DEFAULT_SRLM.score_samples),
  temperature: z.number().min(0).default(DEFAULT_SRLM.temperature),
  top_p: prob.default(DEFAULT_SRLM.top_p),
  score_temperature: z.number().min(0).default(DEFAULT_SRLM.score_temperature),
  max_tokens: int(1).default(DEFAULT_SRLM.max_tokens),
  score_max_tokens: int(1).default(DEFAULT_SRLM.score_max_tokens),
}).strict();

export const RunConfigSchema = z.object({
  /** psrlm: step-wise search with pairwise self-judging (the method); srlm: the outcome-based baseline
   *  (whole solutions self-scored 0–5, src/run/srlm.ts), whose 'model' is the M1 built with scoring data. */
  method: z.enum(['psrlm', 'srlm']).default('psrlm'),
  /** Run seed: every sample, tie-break and shuffle derives from (seed, iteration, problem, step, attempt). */
  seed: int().default(1),
  /** The starting model M1: an embedded checkpoint directory (relative paths: to the config file). */
  model: z.string().min(1),
  /** Prompt template (templates/<name>.json). */
  template: z.string().default('compact'),
  /** Seed of the synthetic world and data (must match the one M1 was built with). */
  data_seed: int().default(20250305),
  /** Self-rewarding iterations: M1 -> M2 -> ... (paper: 3, giving M4). */
  iterations: int(1).default(3),
  /** Questions per iteration before scaling (paper: 400, 800, 1200). */
  problems: z.array(int(1)).min(1).default([400, 800, 1200]),
  /** Multiplies `problems` (rounded, at least 1). */
  problem_scale: z.number().gt(0).default(1),
  /** Drop pairs of searches that ended without an answer (paper-notes OPEN 9: kept by default). */
  drop_unfinished_pairs: z.boolean().default(false),
  search: SearchSchema.default(SearchSchema.parse({})),
  dpo: DPOSchema.default(DPOSchema.parse({})),
  /** The SRLM baseline's sampling and self-scoring (used when method = srlm). */
  srlm: SrlmSchema.default(SrlmSchema.parse({})),
  /** Judge health on the model's own candidates before each search: held-out test prefixes. */
  health: z.object({ prefixes: int(0).default(100) }).strict().default({ prefixes: 100 }),
  /** Evaluation of each new model: problems per split (test, harder) and held-out EFT judge records. */
  eval: z.object({ problems: int(0).default(200), judge: int(0).default(500), max_tokens: int(1).default(320) }).strict()
    .default({ problems: 200, judge: 500, max_tokens: 320 }),
  /** Engine threads (1 or 2). Results do not depend on it. */
  threads: int(1).max(2).default(2),
}).strict().superRefine((c, ctx) => {
  if (c.problems.length < c.iterations) {
    ctx.addIssue({ code: 'custom', path: ['problems'], message: `gives ${c.problems.length} sizes for ${c.iterations} iterations` });
  }
});

export type RunConfig = z.infer<typeof RunConfigSchema>;

/** Validates a parsed config object; throws one message listing every problem by key path. */
export function resolveConfig(raw: unknown, source = 'config'): RunConfig {
  const r = RunConfigSchema.safeParse(raw ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
    throw new Error(`${source}: invalid run config\n${lines.join('\n')}`);
  }
  return r.data;
}

/** Reads a YAML (or JSON) config file; the model path is resolved against the file's folder. */
export function loadConfig(file: string): RunConfig {
  if (!existsSync(file)) throw new Error(`config file ${file} not found`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const c = resolveConfig(raw, file);
  return { ...c, model: path.resolve(path.dirname(file), c.model) };
}

/** Questions of iteration t (1-based): the paper's sizes times the scale. */
export function problemsOf(c: RunConfig, t: number): number {
  return Math.max(1, Math.round(c.problems[t - 1]! * c.problem_scale));
}
