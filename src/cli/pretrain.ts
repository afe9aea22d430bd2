// `psrlm pretrain [--out DIR] [--config FILE.json] [--seed N] [--scale F] [--preset NAME] [--template NAME]
// [--srlm-explain NAME] [--quiet]`: builds the initial models M0, M1 and the SRLM baseline's M1
// (src/train/pretrain.ts). The config file is JSON with any keys of PretrainConfig (unknown keys are
// rejected); the flags override it. Killed (even with kill -9) and run again, it resumes: finished stages
// are reused, a stage killed part-way continues from its last training snapshot, and the result is what an
// uninterrupted run writes.
import { readFileSync } from 'node:fs';
import { preset, PRESETS } from '../engine/presets.js';
import { listTemplates } from '../data/templates.js';
import { SCORE_EXPLAINS, type ScoreExplain } from '../data/score.js';
import { DEFAULT_PRETRAIN, pretrain, srlmVariant, type PretrainConfig } from '../train/pretrain.js';
import { command, UsageError } from './args.js';

export const run = command(
  {
    name: 'pretrain',
    summary: 'build the initial models M0 and M1 with the embedded engine',
    description:
      `Builds M0 (base corpus) and M1 (SFT on IFT + EFT) with the embedded engine and writes them to ` +
      `DIR/m0 and
DIR/m1 (default DIR: assets/models) with manifests and training curves. A stage already built with the
same config is reused. While a stage trains, a snapshot (weights, optimizer state, progress) goes to
DIR/<stage>.partial every snapshot_every steps (config key, default 100; 0: none), so the same command
after a kill resumes the stage where it was and ends with the same weights as an uninterrupted run.`,
    flags: {
      out: { type: 'path', default: 'assets/models', metavar: 'DIR', help: 'where m0, m1 and m1-srlm go' },
      config: { type: 'path', exists: 'file', metavar: 'FILE.json', help: 'JSON with any keys of the pretrain config' },
      seed: { type: 'int', defaultHelp: "the config's", help: 'seed of data and training' },
      scale: { type: 'number', above: 0, metavar: 'F', defaultHelp: "the config's", help: 'multiplies the data sizes' },
      preset: {
        type: 'choice',
        choices: Object.keys(PRESETS),
        metavar: 'NAME',
        defaultHelp: "the config's",
        help: `model size: ${Object.keys(PRESETS).join(', ')}`,
      },
      template: {
        type: 'choice',
        choices: () => listTemplates(),
        metavar: 'NAME',
        defaultHelp: "the config's",
        help: 'prompt template',
      },
      'srlm-explain': {
        type: 'choice',
        choices: [...SCORE_EXPLAINS],
        metavar: 'NAME',
        defaultHelp: "the config's",
        help: "the SRLM scorer's explanation: whole (-> DIR/m1-srlm) or steps (-> DIR/m1-srlm-steps)",
      },
      quiet: { type: 'boolean', help: 'no progress bars' },
    },
  },
  async ({ values }) => {
    let cfg: PretrainConfig = structuredClone(DEFAULT_PRETRAIN);
    if (values.config) {
      let over: Record<string, unknown>;
      try {
        over = JSON.parse(readFileSync(values.config, 'utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new UsageError(
          `--config must be a readable JSON file, got '${values.config}': ${(err as Error).message}`,
        );
      }
      for (const k of Object.keys(over)) {
        if (!(k in cfg)) {
          throw new UsageError(`--config ${values.config}: unknown key '${k}' (known: ${Object.keys(cfg).join(', ')})`);
        }
      }
      cfg = { ...cfg, ...over } as PretrainConfig;
    }
    if (values.seed !== undefined) cfg.seed = values.seed;
    if (values.scale !== undefined) cfg.data_scale = values.scale;
    if (values.preset !== undefined) cfg.model = preset(values.preset);
    if (values.template !== undefined) cfg.template = values.template;
    // a variant's own settings (srlmVariant): where it starts and its training budget
    if (values['srlm-explain'] !== undefined) cfg.srlm = srlmVariant(values['srlm-explain'] as ScoreExplain);
    await pretrain(cfg, values.out, { progress: !values.quiet });
    return 0;
  },
);
