// `psrlm run <config.yaml> [--out DIR] [--quiet]`: the self-rewarding loop (M1 → M2 → … , paper §3) as a
// resumable run (src/run/loop.ts). The same command after an interruption, even kill -9, resumes where the
// run stopped and ends with the same artifacts as an uninterrupted run. The config schema is
// src/run/config.ts; configs/demo.yaml is an example.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../run/config.js';
import { runLoop } from '../run/loop.js';

const USAGE = `usage: psrlm run <config.yaml> [--out DIR] [--quiet]

Runs the self-rewarding iterations of the config into DIR (default runs/<config name>), resuming a run
already there. Layout: manifest.json, baseline/eval.json, iter-N/{health.json, samples.jsonl,
search.json, pairs.jsonl, pairs.trl.jsonl, pairs.stepdpo.jsonl, pairs.json, dpo.json, model/, eval.json,
done/}, summary.json, timings.json.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { out: { type: 'string' }, quiet: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
  });
  if (values.help) { console.log(USAGE); return 0; }
  if (positionals.length !== 1) { console.error(USAGE); return 2; }
  const file = positionals[0]!;
  const cfg = loadConfig(file);
  const out = values.out ?? path.join('runs', path.basename(file).replace(/\.(ya?ml|json)$/i, ''));
  await runLoop(cfg, out, { progress: !values.quiet, log: values.quiet ? () => {} : undefined });
  return 0;
}
