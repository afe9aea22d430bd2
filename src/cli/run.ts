// `psrlm run <config.yaml> [--out DIR] [--quiet]`: the self-rewarding loop (M1 → M2 → … , paper §3) as a
// resumable run (src/run/loop.ts). The same command after an interruption, even kill -9, resumes where the
// run stopped and ends with the same artifacts as an uninterrupted run. The config schema is
// src/run/config.ts; configs/demo.yaml is an example.
import path from 'node:path';
import { loadConfig } from '../run/config.js';
import { runLoop } from '../run/loop.js';
import { command } from './args.js';

export const run = command({
  name: 'run',
  summary: 'run the self-rewarding loop of a config (resumable)',
  description: `Runs the self-rewarding iterations of the config into DIR (default runs/<config name>), resuming a run
already there. Layout: manifest.json, baseline/eval.json, iter-N/{health.json, samples.jsonl,
search.json, pairs.jsonl, pairs.trl.jsonl, pairs.stepdpo.jsonl, pairs.json, dpo.json, model/, eval.json,
done/}, summary.json, timings.json.`,
  positionals: [{
    name: 'config.yaml', type: 'path', exists: 'file', required: true,
    help: 'the run config (YAML or JSON; src/run/config.ts)',
  }],
  flags: {
    out: { type: 'path', metavar: 'DIR', defaultHelp: 'runs/<config name>', help: 'the run directory' },
    quiet: { type: 'boolean', help: 'no progress bars and no log lines' },
  },
}, async ({ values, positionals: [file] }) => {
  const cfg = loadConfig(file);
  const out = values.out ?? path.join('runs', path.basename(file).replace(/\.(ya?ml|json)$/i, ''));
  await runLoop(cfg, out, { progress: !values.quiet, log: values.quiet ? () => {} : undefined });
  return 0;
});
