// `psrlm data build`: writes base / IFT / EFT JSONL and a manifest (docs/world.md "Schemas").
// `psrlm data segment`: IFT from real worked solutions (src/data/segment-run.ts, docs/data.md).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildData, dataConfig } from '../data/build.js';

const USAGE = `usage: psrlm data build [--out runs/data] [--config FILE.json] [--seed N] [--template compact|compact-next|paper]
                        [--scale F]

Writes base.jsonl (M0's corpus), ift.jsonl, eft-train.jsonl, eft-test.jsonl (the judge benchmark),
eft-harder.jsonl and manifest.json into --out. --config is a JSON object merged over the defaults
(keys: seed, template, world, base, ift, eft, pools, budget; see docs/world.md). --scale multiplies the
base, IFT and EFT-train sizes (e.g. 0.1 for a quick build).

usage: psrlm data segment --input <jsonl> (--segmenter gsm8k | --engine <spec>) --out <jsonl>
                          [--template paper] [--batch 16] [--max-tokens 1024] [--limit N]

Splits worked solutions into "Step n:" steps (GSM8K by its own lines, or a model with the paper's Fig. 3
prompt), validates each (numbering, text unchanged but for markers and whitespace, a final \boxed{} equal
to the gold by the grader) and writes IFT records to --out, rejected items with their reason to
<out>.rejected.jsonl and counts to <out>.manifest.json. Reruns resume.`;

async function segment(rest: string[]): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: {
      input: { type: 'string' }, out: { type: 'string' }, segmenter: { type: 'string' }, engine: { type: 'string' },
      template: { type: 'string', default: 'paper' }, batch: { type: 'string', default: '16' }, 'max-tokens': { type: 'string', default: '1024' },
      limit: { type: 'string' },
    },
  });
  if (!values.input || !values.out || (!values.segmenter && !values.engine)) { console.error(USAGE); return 2; }
  if (values.segmenter !== undefined && values.segmenter !== 'gsm8k') { console.error(`psrlm data segment: --segmenter knows only 'gsm8k', got '${values.segmenter}'`); return 2; }
  const { runSegment } = await import('../data/segment-run.js');
  let engine;
  if (values.engine) {
    const { openEngine } = await import('../engine/registry.js');
    let spec = values.engine;
    // every remote call goes through the call cache
    if (spec.startsWith('openai:') && !/[?&]cache=/.test(spec)) spec += `${spec.includes('?') ? '&' : '?'}cache=${values.out}.calls.jsonl`;
    engine = await openEngine(spec);
  }
  try {
    const r = await runSegment({
      input: values.input, out: values.out, segmenter: values.segmenter as 'gsm8k' | undefined, engine, template: values.template!,
      batch: Number(values.batch), max_tokens: Number(values['max-tokens']), limit: values.limit === undefined ? undefined : Number(values.limit),
      log: (l) => process.stderr.write(l + '\n'),
    });
    console.log(`kept ${r.kept}, rejected ${JSON.stringify(r.rejected)} (${r.skipped} were already done); manifest ${values.out}.manifest.json`);
  } catch (e) {
    console.error(`psrlm data segment: ${(e as Error).message}`);
    return 1;
  } finally {
    await engine?.close();
  }
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'segment') return segment(rest);
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
