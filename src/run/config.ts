// The run's one typed config (`psrlm run <config.yaml>`), checked with zod in strict mode: an unknown key
// or a wrong type is an error that names the key, so a typo cannot silently fall back to a default.
// Every open choice of the paper (docs/method.md §3) is an option here, defaulting to the reading given
// there; the fully resolved config is written into the run's manifest.json.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BENCHMARKS } from '../eval/benchmarks.js';
import { PROMPT_NAMES } from '../eval/prompts.js';
import { QuestionsSchema } from '../data/questions.js';
import { DEFAULT_SEARCH } from '../search/search.js';
import { DPOSchema, TrainerSchema } from '../train/config.js';
import { DEFAULT_SRLM } from './srlm-sampling.js';
import { SOLUTION_TOKENS } from '../world/index.js';

const int = (min = 0) => z.number().int().min(min);
const prob = z.number().gt(0).max(1);

export const SearchSchema = z
  .object({
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
  })
  .strict();

export const SrlmSchema = z
  .object({
    samples: int(2).default(DEFAULT_SRLM.samples),
    score_samples: int(1).default(DEFAULT_SRLM.score_samples),
    temperature: z.number().min(0).default(DEFAULT_SRLM.temperature),
    top_p: prob.default(DEFAULT_SRLM.top_p),
    score_temperature: z.number().min(0).default(DEFAULT_SRLM.score_temperature),
    max_tokens: int(1).default(DEFAULT_SRLM.max_tokens),
    score_max_tokens: int(1).default(DEFAULT_SRLM.score_max_tokens),
  })
  .strict();

/** Where generation and judging run (src/run/backend.ts). `embedded`: the in-process engine. `server`: a
 *  server started per iteration from `command` ({checkpoint}, {port}, {name} filled in), stopped after. `lora`:
 *  each iteration's adapter loaded into the running server at `url` under a fresh name. */
export const EngineSchema = z
  .object({
    kind: z.enum(['embedded', 'server', 'lora']).default('embedded'),
    command: z.array(z.string().min(1)).default([]),
    env: z.record(z.string(), z.string()).default({}),
    host: z.string().default('127.0.0.1'),
    port: int(0).max(65535).default(0),
    startup_timeout: z.number().gt(0).default(900),
    url: z.string().url().optional(),
    /** Remote-engine options (docs/serving.md), e.g. "concurrency=32&timeout=600". */
    options: z.string().default(''),
    /** Tokenizer for scoring and the contract (default: the served checkpoint's own files). */
    tokenizer: z.string().optional(),
  })
  .strict();

/** The benchmark evaluation of every model (Table 1): the first `limit` problems of each (all: no limit). */
export const BenchmarksSchema = z
  .object({
    names: z.array(z.enum(BENCHMARKS)).min(1),
    limit: int(1).optional(),
    prompt: z.enum(PROMPT_NAMES).default('qwen25-math-cot'),
    /** Tokens per completion (the toolkit's 2048 by default). */
    max_tokens: int(1).default(2048),
  })
  .strict();

export type BenchmarksConfig = z.infer<typeof BenchmarksSchema>;

export const RunConfigSchema = z
  .object({
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
    /** Drop pairs of searches that ended without an answer (open choice 9, docs/method.md §3: kept by default). */
    drop_unfinished_pairs: z.boolean().default(false),
    search: SearchSchema.default(SearchSchema.parse({})),
    dpo: DPOSchema.default(DPOSchema.parse({})),
    /** The SRLM baseline's sampling and self-scoring (used when method = srlm). */
    srlm: SrlmSchema.default(SrlmSchema.parse({})),
    /** Questions from a file (src/data/questions.ts) instead of the synthetic world's train split: iteration t
     *  draws problemsOf(t) of them, disjoint from the other iterations'. Its `file` is relative to the config file. */
    questions: QuestionsSchema.optional(),
    /** Judge health on the model's own candidates before each search: held-out test prefixes (world runs);
     *  with file questions, `rollouts`: search rounds sampled after each search, each candidate completed
     *  greedily and graded against the gold answer (absent or 0: not measured). */
    health: z
      .object({ prefixes: int(0).default(100), rollouts: int(0).optional() })
      .strict()
      .default({ prefixes: 100 }),
    /** Evaluation of each new model: problems per split (test, harder), held-out EFT judge records, and
     *  held-out test prefixes for greedy next-step accuracy (the same prefixes for every model; 0: none).
     *  `intermediate_problems`: problems per split for the models between the first and the last (M2 … M_T),
     *  which no paired comparison needs at full size; default `problems`. Every count takes the first
     *  problems of the split, so a smaller evaluation is of a prefix of a larger one's problems. */
    eval: z
      .object({
        problems: int(0).default(200),
        intermediate_problems: int(0).optional(),
        judge: int(0).default(500),
        max_tokens: int(1).default(SOLUTION_TOKENS),
        step_prefixes: int(0).default(500),
        /** A Table-1 row per model: greedy accuracy on these benchmarks (src/eval/evaluate.ts, as `psrlm eval`). */
        benchmarks: BenchmarksSchema.optional(),
      })
      .strict()
      .default({ problems: 200, judge: 500, max_tokens: SOLUTION_TOKENS, step_prefixes: 500 }),
    /** Engine threads (1 or 2). Results do not depend on it. */
    threads: int(1).max(2).default(2),
    engine: EngineSchema.default(EngineSchema.parse({})),
    trainer: TrainerSchema.default(TrainerSchema.parse({})),
  })
  .strict()
  .superRefine((c, ctx) => {
    const served = c.engine.kind !== 'embedded';
    if (served !== (c.trainer.kind === 'trl')) {
      ctx.addIssue({
        code: 'custom',
        path: ['trainer', 'kind'],
        message:
          `engine.kind ${c.engine.kind} needs trainer.kind ${served ? 'trl' : 'embedded'} (checkpoints ` +
          `are ${served ? 'Hugging Face' : 'psrlm'} format)`,
      });
    }
    if (c.engine.kind === 'server' && c.engine.command.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['engine', 'command'],
        message: 'engine.kind server needs the server command (a list with {checkpoint}, {port}, {name})',
      });
    }
    if (c.engine.kind === 'lora' && !c.engine.url)
      ctx.addIssue({
        code: 'custom',
        path: ['engine', 'url'],
        message: "engine.kind lora needs the running server's url",
      });
    if (c.engine.kind === 'lora' && (!c.trainer.lora || c.trainer.lora.merge)) {
      ctx.addIssue({
        code: 'custom',
        path: ['trainer', 'lora'],
        message: 'engine.kind lora needs trainer.lora with merge: false (the server loads adapters)',
      });
    }
    if (c.dpo.replay && !c.dpo.replay.file && c.questions) {
      ctx.addIssue({
        code: 'custom',
        path: ['dpo', 'replay', 'file'],
        message:
          "is needed with questions from a file: replay draws from the synthetic world's IFT records only " +
          "when the run asks the world's questions",
      });
    }
    if (c.problems.length < c.iterations) {
      ctx.addIssue({
        code: 'custom',
        path: ['problems'],
        message: `gives ${c.problems.length} sizes for ${c.iterations} iterations`,
      });
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

/** Reads a YAML (or JSON) config file; the model path (and the other files it names: questions, replay) is
 *  resolved against the file's folder. */
export function loadConfig(file: string): RunConfig {
  if (!existsSync(file)) throw new Error(`config file ${file} not found`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const c = resolveConfig(raw, file);
  const dir = path.dirname(file);
  // a command's program given as a relative path (./x, .venv-rl/bin/python) is relative to the config file
  const prog = (cmd: string[]) =>
    cmd.map((a, i) => (i === 0 && a.includes('/') && !path.isAbsolute(a) ? path.resolve(dir, a) : a));
  return {
    ...c,
    model: path.resolve(dir, c.model),
    ...(c.questions ? { questions: { ...c.questions, file: path.resolve(dir, c.questions.file) } } : {}),
    ...(c.dpo.replay?.file
      ? { dpo: { ...c.dpo, replay: { ...c.dpo.replay, file: path.resolve(dir, c.dpo.replay.file) } } }
      : {}),
    engine: {
      ...c.engine,
      command: prog(c.engine.command),
      tokenizer: c.engine.tokenizer && path.resolve(dir, c.engine.tokenizer),
    },
    trainer: { ...c.trainer, launcher: prog(c.trainer.launcher) },
  };
}

/** Questions of iteration t (1-based): the paper's sizes times the scale. */
export function problemsOf(c: RunConfig, t: number): number {
  return Math.max(1, Math.round(c.problems[t - 1]! * c.problem_scale));
}
