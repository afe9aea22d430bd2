// The training sections of the run config (`dpo:` and `trainer:` in src/run/config.ts, docs/loop.md "The
// config"): their zod schemas, defaults and types live beside the trainers that read them, so training
// code takes its settings from here and the run config composes them without training reaching up into
// the run. Strict like the rest of the config: an unknown key or a wrong type is an error naming the key.
import { z } from 'zod';
import { DEFAULT_STEPDPO } from './stepdpo.js';

const int = (min = 0) => z.number().int().min(min);

export const DPOSchema = z
  .object({
    beta: z.number().gt(0).default(DEFAULT_STEPDPO.beta),
    lr: z.number().gt(0).default(DEFAULT_STEPDPO.lr),
    epochs: z.number().gt(0).default(DEFAULT_STEPDPO.epochs),
    batch_size: int(1).default(DEFAULT_STEPDPO.batch_size),
    warmup_frac: z.number().min(0).max(1).default(DEFAULT_STEPDPO.warmup_frac),
    min_lr_frac: z.number().min(0).max(1).default(DEFAULT_STEPDPO.min_lr_frac),
    weight_decay: z.number().min(0).default(DEFAULT_STEPDPO.weight_decay),
    grad_clip: z.number().gt(0).default(DEFAULT_STEPDPO.grad_clip),
    nll_alpha: z.number().min(0).default(DEFAULT_STEPDPO.nll_alpha),
    /** IFT replay, not the paper's method (src/train/stepdpo.ts): absent = off, and then no default is filled
     *  in, so a config without it resolves (and its run manifest reads) as before the option existed. */
    replay: z
      .object({
        weight: z.number().gt(0),
        per_pair: z.number().gt(0),
        file: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Who trains: `embedded` (in process) or `trl` (trainer/psrlm_trl as a subprocess, under the user's launcher). */
export const TrainerSchema = z
  .object({
    kind: z.enum(['embedded', 'trl']).default('embedded'),
    /** Command prefix running Python modules: [python3], or [accelerate, launch, --config_file, X.yaml, ...]. */
    launcher: z.array(z.string().min(1)).min(1).default(['python3']),
    per_device_batch_size: int(1).default(8),
    dtype: z.enum(['float32', 'bfloat16', 'float16']).default('float32'),
    lora: z
      .object({
        r: int(1).default(16),
        alpha: z.number().gt(0).default(32),
        dropout: z.number().min(0).max(1).default(0),
        target_modules: z.union([z.string(), z.array(z.string())]).default('all-linear'),
        merge: z.boolean().default(true),
      })
      .strict()
      .nullable()
      .default(null),
    precompute_ref: z.boolean().default(false),
    max_length: int(1).nullable().default(null),
    gradient_checkpointing: z.boolean().default(false),
    contract_records: int(0).default(16),
    env: z.record(z.string(), z.string()).default({}),
    adam_beta1: z.number().min(0).lt(1).default(0.9),
    adam_beta2: z.number().min(0).lt(1).default(0.95),
  })
  .strict();

export type TrainerConfig = z.infer<typeof TrainerSchema>;
