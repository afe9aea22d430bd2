// `psrlm pretrain [--out DIR] [--config FILE.json] [--seed N] [--scale F] [--preset NAME] [--template NAME] [--quiet]`:
// builds the initial models M0 and M1 (src/train/pretrain.ts). The config file is JSON with any keys of
// PretrainConfig (unknown keys are rejected); --seed, --scale and --preset override it. Killed (even with
// kill -9) and run again, it resumes: finished stages are reused, a stage killed part-way continues from
// its last training snapshot, and the result is what an uninterrupted run writes.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { preset } from '../engine/presets.js';
import { DEFAULT_PRETRAIN, pretrain, type PretrainConfig } from '../train/pretrain.js';

const HELP = `usage: psrlm pretrain [--out DIR] [--config FILE.json] [--seed N] [--scale F] [--preset NAME] [--template NAME] [--quiet]

Builds M0 (base corpus) and M1 (SFT on IFT + EFT) with the embedded engine and writes them to DIR/m0 and
DIR/m1 (default DIR: assets/models) with manifests and training curves. A stage already built with the
same config is reused. While a stage trains, a snapshot (weights, optimizer state, progress) goes to
DIR/<stage>.partial every snapshot_every steps (config key, default 100; 0: none), so the same command
after a kill resumes the stage where it was and ends with the same weights as an uninterrupted run.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: 'assets/models' },
      config: { type: 'string' },
      seed: { type: 'string' },
      scale: { type: 'string' },
      preset: { type: 'string' },
      template: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) { console.log(HELP); return 0; }
  let cfg: PretrainConfig = structuredClone(DEFAULT_PRETRAIN);
  if (values.config) {
    const over = JSON.parse(readFileSync(values.config, 'utf8')) as Record<string, unknown>;
    for (const k of Object.keys(over)) {
      if (!(k in cfg)) throw new Error(`${values.config}: unknown key '${k}' (known: ${Object.keys(cfg).join(', ')})`);
    }
    cfg = { ...cfg, ...over } as PretrainConfig;
  }
  const num = (s: string, what: string) => { const v = Number(s); if (!Number.isFinite(v)) throw new Error(`--${what} must be a number, got '${s}'`); return v; };
  if (values.seed !== undefined) cfg.seed = num(values.seed, 'seed');
  if (values.scale !== undefined) cfg.data_scale = num(values.scale, 'scale');
  if (values.preset !== undefined) cfg.model = preset(values.preset);
  if (values.template !== undefined) cfg.template = values.template;
  await pretrain(cfg, values.out!, { progress: !values.quiet });
  return 0;
}
