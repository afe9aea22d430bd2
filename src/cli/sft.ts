// `psrlm sft`: M1 = SFT of a base model on IFT + EFT records (src/train/sft.ts), on the embedded engine or
// through TRL under the user's launcher — the first step of the method for a real model, e.g.
// Qwen2.5-Math-7B with the trainer section of configs/qwen2.5-math-7b-8gpu.yaml (trainer/README.md).
import { loadConfig } from '../run/config.js';
import { TrainerSchema, type TrainerConfig } from '../train/config.js';
import { Progress } from '../util/progress.js';
import { PAPER_SFT, sftCheckpoint, type SftSettings } from '../train/sft.js';
import { command, UsageError } from './args.js';

export const run = command(
  {
    name: 'sft',
    summary: 'M1 = SFT of a base model on IFT + EFT records, on the embedded engine or TRL',
    description: `Supervised fine-tuning of --model on the records of every --data file ({prompt, completion, eos}: the
IFT and EFT files of psrlm data build / segment / eft), loss on completion tokens only, EOS after a
completion unless the record says eos: false. The defaults are the paper's M1 recipe (3 epochs, lr 1e-6,
batch 32). --config takes the trainer section of a run config (kind, launcher, dtype, LoRA, contract, ...),
so M1 is trained by the same trainer, launcher and token-boundary contract as the loop's iterates;
without it, --trainer picks the embedded engine (psrlm checkpoints, the default) or TRL (Hugging Face
checkpoints; --launcher is the command prefix that runs Python modules, e.g. ".venv-rl/bin/python" or
"accelerate launch --config_file zero3.yaml"). Give --config or --trainer/--launcher, not both. The same
command again reuses a finished --out; an embedded run killed part-way resumes from <out>.partial.`,
    flags: {
      model: { type: 'path', required: true, metavar: 'CHECKPOINT', help: 'the base model' },
      data: {
        type: 'list',
        exists: 'file',
        required: true,
        metavar: 'JSONL',
        help: 'IFT/EFT records ({prompt, completion, eos})',
      },
      out: { type: 'path', required: true, metavar: 'DIR', help: 'the fine-tuned checkpoint' },
      config: { type: 'path', exists: 'file', metavar: 'FILE', help: 'a run config whose trainer section is used' },
      trainer: {
        type: 'string',
        metavar: 'embedded|trl',
        defaultHelp: 'embedded',
        help: 'which trainer, without --config',
      },
      launcher: {
        type: 'string',
        metavar: 'CMD',
        help: 'with --trainer trl: the command prefix that runs Python modules',
      },
      epochs: { type: 'number', above: 0, default: PAPER_SFT.epochs, help: 'passes over the data' },
      lr: { type: 'number', above: 0, default: PAPER_SFT.lr, help: 'peak learning rate' },
      'batch-size': { type: 'int', min: 1, default: PAPER_SFT.batch_size, help: 'records per optimizer step' },
      'warmup-frac': {
        type: 'number',
        min: 0,
        below: 1,
        default: PAPER_SFT.warmup_frac,
        help: 'share of steps warming up',
      },
      'min-lr-frac': {
        type: 'number',
        min: 0,
        max: 1,
        default: PAPER_SFT.min_lr_frac,
        help: 'final learning rate as a share of the peak',
      },
      'weight-decay': { type: 'number', min: 0, default: PAPER_SFT.weight_decay, help: 'AdamW weight decay' },
      seed: { type: 'int', min: 0, default: PAPER_SFT.seed, help: 'seed of shuffling and dropout' },
      'snapshot-every': { type: 'int', min: 0, default: 100, help: 'steps between resumable snapshots, 0 for none' },
      quiet: { type: 'boolean', help: 'no progress bar' },
    },
  },
  async ({ values }) => {
    if (values.config && (values.trainer || values.launcher)) {
      throw new UsageError('give either --config (its trainer section) or --trainer/--launcher, not both');
    }
    const settings: SftSettings = {
      epochs: values.epochs,
      lr: values.lr,
      batch_size: values['batch-size'],
      warmup_frac: values['warmup-frac'],
      min_lr_frac: values['min-lr-frac'],
      weight_decay: values['weight-decay'],
      seed: values.seed,
    };
    const snapshotEvery = values['snapshot-every'];
    let trainer: TrainerConfig;
    if (values.config) {
      trainer = loadConfig(values.config).trainer;
    } else {
      const r = TrainerSchema.safeParse({
        kind: values.trainer ?? 'embedded',
        ...(values.launcher ? { launcher: values.launcher.split(/\s+/).filter(Boolean) } : {}),
      });
      const flag = (i: { path: PropertyKey[] }) => `--${i.path[0] === 'kind' ? 'trainer' : String(i.path[0])}`;
      if (!r.success) throw new UsageError(r.error.issues.map((i) => `${flag(i)}: ${i.message}`).join('; '));
      trainer = r.data;
    }
    const log = (s: string) => console.error(s);
    let bar: Progress | undefined;
    const res = await sftCheckpoint(
      { model: values.model, data: values.data, out: values.out, trainer, settings, snapshot_every: snapshotEvery },
      log,
      {
        onStep: (s) => {
          bar ??= new Progress('sft', s.steps, { unit: 'steps', silent: values.quiet });
          bar.tick(1, `loss ${s.loss.toFixed(3)}`);
        },
        onResume: (k, n) => {
          bar = new Progress('sft', n, { unit: 'steps', silent: values.quiet });
          bar.resume(k);
          log(`resuming from step ${k} of ${n}`);
        },
      },
    );
    bar?.finish(`loss ${res.final_loss.toFixed(3)}`);
    return 0;
  },
);
