// `psrlm data build`: writes base / IFT / EFT JSONL and a manifest (docs/world.md "Schemas").
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildData, dataConfig } from '../data/build.js';

const USAGE = `usage: psrlm data build [--out runs/data] [--config FILE.json] [--seed N] [--template compact|compact-next|paper]
                        [--scale F]

Writes base.jsonl (M0's corpus), ift.jsonl, eft-train.jsonl, eft-test.jsonl (the judge benchmark),
eft-harder.jsonl and manifest.json into --out. --config is a JSON object merged over the defaults
(keys: seed, template, world, base, ift, eft, pools, budget; see docs/world.md). --scale multiplies the
base, IFT and EFT-train sizes (e.g. 0.1 for a quick build).`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'build') {
    console.error(`psrlm data: unknown subcommand '${sub}'.\n\n${USAGE}`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      out: { type: 'string', default: 'runs/data' },
      config: { type: 'string' },
      seed: { type: 'string' },
      template: { type: 'string' },
      scale: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) { console.log(USAGE); return 0; }
  let partial: Record<string, unknown> = {};
  if (values.config) {
    try {
      partial = JSON.parse(readFileSync(values.config, 'utf8'));
    } catch (err) {
      console.error(`psrlm data build: cannot read --config ${values.config}: ${(err as Error).message}`);
      return 2;
    }
  }
  if (values.seed !== undefined) {
    const s = Number(values.seed);
    if (!Number.isInteger(s)) { console.error(`psrlm data build: --seed must be an integer, got '${values.seed}'`); return 2; }
    partial.seed = s;
  }
  if (values.template !== undefined) partial.template = values.template;
  const cfg = dataConfig(partial);
  if (values.scale !== undefined) {
    const f = Number(values.scale);
    if (!(f > 0)) { console.error(`psrlm data build: --scale must be a positive number, got '${values.scale}'`); return 2; }
    cfg.base.problems = Math.round(cfg.base.problems * f);
    cfg.base.practice = Math.round(cfg.base.practice * f);
    cfg.ift.problems = Math.round(cfg.ift.problems * f);
    cfg.eft.trainPairs = Math.round(cfg.eft.trainPairs * f);
  }
  const t0 = Date.now();
  const m = buildData(cfg, values.out!);
  for (const [name, f] of Object.entries(m.files)) {
    console.log(`${name.padEnd(17)} ${String(f.records).padStart(6)} records, chars mean ${f.chars.mean} p95 ${f.chars.p95} max ${f.chars.max} (over ${f.chars.budget}: ${f.chars.over_budget})`);
  }
  console.log(`IFT steps per problem: ${JSON.stringify(m.steps.ift)}`);
  console.log(`EFT train wrong-step kinds: ${JSON.stringify(m.eft['eft-train'].kinds)}`);
  console.log(`wrote ${values.out}/manifest.json (seed ${m.seed}, template ${m.template}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}
