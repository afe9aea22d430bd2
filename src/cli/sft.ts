// `psrlm sft`: M1 = SFT of a base model on IFT + EFT records (src/train/sft.ts), on the embedded engine or
// through TRL under the user's launcher — the first step of the method for a real model, e.g.
// Qwen2.5-Math-7B with the trainer section of configs/qwen2.5-math-7b-8gpu.yaml (trainer/README.md).
import { parseArgs } from 'node:util';
import { loadConfig } from '../run/config.js';
import { TrainerSchema, type TrainerConfig } from '../train/config.js';
import { Progress } from '../util/progress.js';
import { PAPER_SFT, sftCheckpoint, type SftSettings } from '../train/sft.js';

const USAGE = `usage: psrlm sft --model <checkpoint> --data <jsonl> [--data <jsonl> ...] --out <dir>
                 [--config <run config.yaml> | --trainer embedded|trl [--launcher "python3"]]
                 [--epochs 3] [--lr 1e-6] [--batch-size 32] [--warmup-frac 0.1] [--min-lr-frac 0]
                 [--weight-decay 0] [--seed 1] [--snapshot-every 100] [--quiet]

Supervised fine-tuning of --model on the records of every --data file ({prompt, completion, eos}: the
IFT and EFT files of psrlm data build / segment / eft), loss on completion tokens only, EOS after a
completion unless the record says eos: false. The defaults are the paper's M1 recipe (3 epochs, lr 1e-6,
batch 32). --config takes the trainer section of a run config (kind, launcher, dtype, LoRA, contract, ...),
so M1 is trained by the same trainer, launcher and token-boundary contract as the loop's iterates;
without it, --trainer picks the embedded engine (psrlm checkpoints, the default) or TRL (Hugging Face
checkpoints; --launcher is the command prefix that runs Python modules, e.g. ".venv-rl/bin/python" or
"accelerate launch --config_file zero3.yaml"). The same command again reuses a finished --out; an
embedded run killed part-way resumes from <out>.partial.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, data: { type: 'string', multiple: true }, out: { type: 'string' },
      config: { type: 'string' }, trainer: { type: 'string' }, launcher: { type: 'string' },
      epochs: { type: 'string' }, lr: { type: 'string' }, 'batch-size': { type: 'string' }, 'warmup-frac': { type: 'string' },
      'min-lr-frac': { type: 'string' }, 'weight-decay': { type: 'string' }, seed: { type: 'string' },
      'snapshot-every': { type: 'string', default: '100' }, quiet: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
  });
  if (values.help) { console.log(USAGE); return 0; }
  if (!values.model || !values.out || !values.data?.length) { console.error(`psrlm sft: --model, --data and --out are required\n\n${USAGE}`); return 2; }
  if (values.config && (values.trainer || values.launcher)) { console.error('psrlm sft: give either --config (its trainer section) or --trainer/--launcher, not both'); return 2; }
  const num = (v: string | undefined, name: string, dflt: number, ok: (x: number) => boolean, want: string): number => {
    if (v === undefined) return dflt;
    const x = Number(v);
    if (!Number.isFinite(x) || !ok(x)) throw new Error(`--${name} must be ${want}, got '${v}'`);
    return x;
  };
  const settings: SftSettings = {
    epochs: num(values.epochs, 'epochs', PAPER_SFT.epochs, (x) => x > 0, 'a positive number'),
    lr: num(values.lr, 'lr', PAPER_SFT.lr, (x) => x > 0, 'a positive number'),
    batch_size: num(values['batch-size'], 'batch-size', PAPER_SFT.batch_size, (x) => Number.isInteger(x) && x >= 1, 'a positive integer'),
    warmup_frac: num(values['warmup-frac'], 'warmup-frac', PAPER_SFT.warmup_frac, (x) => x >= 0 && x < 1, 'in [0, 1)'),
    min_lr_frac: num(values['min-lr-frac'], 'min-lr-frac', PAPER_SFT.min_lr_frac, (x) => x >= 0 && x <= 1, 'in [0, 1]'),
    weight_decay: num(values['weight-decay'], 'weight-decay', PAPER_SFT.weight_decay, (x) => x >= 0, 'a non-negative number'),
    seed: num(values.seed, 'seed', PAPER_SFT.seed, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer'),
  };
  const snapshotEvery = num(values['snapshot-every'], 'snapshot-every', 100, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
  let trainer: TrainerConfig;
  if (values.config) {
    trainer = loadConfig(values.config).trainer;
  } else {
    const r = TrainerSchema.safeParse({ kind: values.trainer ?? 'embedded', ...(values.launcher ? { launcher: values.launcher.split(/\s+/).filter(Boolean) } : {}) });
    if (!r.success) { console.error(`psrlm sft: ${r.error.issues.map((i) => `--${i.path[0] === 'kind' ? 'trainer' : String(i.path[0])}: ${i.message}`).join('; ')}`); return 2; }
    trainer = r.data;
  }
  const log = (s: string) => console.error(s);
  let bar: Progress | undefined;
  const res = await sftCheckpoint({ model: values.model, data: values.data, out: values.out, trainer, settings, snapshot_every: snapshotEvery }, log, {
    onStep: (s) => {
      bar ??= new Progress('sft', s.steps, { unit: 'steps', silent: values.quiet });
      bar.tick(1, `loss ${s.loss.toFixed(3)}`);
    },
    onResume: (k, n) => {
      bar = new Progress('sft', n, { unit: 'steps', silent: values.quiet });
      bar.resume(k);
      log(`resuming from step ${k} of ${n}`);
    },
  });
  bar?.finish(`loss ${res.final_loss.toFixed(3)}`);
  return 0;
}
