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
<out>.rejected.jsonl and counts to <out>.manifest.json. Reruns resume.

usage: psrlm data eft --input <jsonl> --engine <policy spec> --verifier rollouts|prm=<spec> --annotator <spec>
                      --out <dir> [--limit N] [--width 6] [--rollouts 4] [--test-share 0.1] [--template paper]
                      [--max-layers 12] [--max-step-tokens 256] [--rollout-max-tokens 1024] [--annotator-max-tokens 1024]

Step-wise pairwise judgments by verified step search (docs/data.md): per layer w sampled steps, scored by
Math-Shepherd rollouts (k completions graded against the gold) or a PRM's P("+"); best vs worst; the
annotator judges both orders and a pair is kept only when it agrees with the verifier in both. Writes
records.jsonl (resumable), eft-train.jsonl, eft-test.jsonl (held out by problem) and manifest.json.`;

async function eft(rest: string[]): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: {
      input: { type: 'string' }, out: { type: 'string' }, engine: { type: 'string' }, verifier: { type: 'string', default: 'rollouts' },
      annotator: { type: 'string' }, limit: { type: 'string' }, width: { type: 'string', default: '6' }, rollouts: { type: 'string', default: '4' },
      'test-share': { type: 'string', default: '0.1' }, template: { type: 'string', default: 'paper' }, seed: { type: 'string', default: '0' },
      'max-layers': { type: 'string' }, 'max-step-tokens': { type: 'string' }, 'rollout-max-tokens': { type: 'string' }, 'annotator-max-tokens': { type: 'string' },
    },
  });
  if (!values.input || !values.out || !values.engine || !values.annotator) { console.error(USAGE); return 2; }
  const { mkdirSync, readFileSync: rf } = await import('node:fs');
  const path = await import('node:path');
  const { openEngine } = await import('../serve/registry.js');
  const { loadTemplate } = await import('../data/templates.js');
  const { sourceOf } = await import('../data/segment-run.js');
  const { DEFAULT_REAL_EFT, buildRealEft, eftCounts, pairExamples } = await import('../data/real-eft.js');
  const { writeJSONAtomic, writeFileAtomic } = await import('../util/atomic.js');
  const { hashText } = await import('../world/rng.js');
  mkdirSync(values.out, { recursive: true });
  // every remote call goes through a call cache in the output directory
  const cached = (spec: string, name: string) => (spec.startsWith('openai:') && !/[?&]cache=/.test(spec) ? `${spec}${spec.includes('?') ? '&' : '?'}cache=${path.join(values.out!, `calls-${name}.jsonl`)}` : spec);
  const vm = /^(rollouts|prm)(?:=(.+))?$/.exec(values.verifier!);
  if (!vm || (vm[1] === 'prm' && !vm[2])) { console.error(`psrlm data eft: --verifier is 'rollouts' (the policy engine rolls out) or 'prm=<engine spec>', got '${values.verifier}'`); return 2; }
  const policy = await openEngine(cached(values.engine, 'policy'));
  const verifier = vm[1] === 'prm' ? await openEngine(cached(vm[2]!, 'prm')) : policy;
  const annotator = await openEngine(cached(values.annotator, 'annotator'));
  try {
    const t = loadTemplate(values.template!);
    let problems = rf(values.input, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
      const s = sourceOf(JSON.parse(l) as Record<string, unknown>, i);
      return { id: s.id, question: s.question, gold: s.gold };
    });
    if (values.limit !== undefined) problems = problems.slice(0, Number(values.limit));
    // every count must be a positive integer: a typo must not silently become NaN and search nothing
    const count = (name: string, v: string | undefined, dflt: number) => {
      if (v === undefined) return dflt;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${v}'`);
      return n;
    };
    const o = {
      ...DEFAULT_REAL_EFT, width: count('width', values.width, 6), rollouts: count('rollouts', values.rollouts, 4), verifier: vm[1] as 'rollouts' | 'prm', seed: Number(values.seed),
      max_layers: count('max-layers', values['max-layers'], DEFAULT_REAL_EFT.max_layers), max_step_tokens: count('max-step-tokens', values['max-step-tokens'], DEFAULT_REAL_EFT.max_step_tokens),
      rollout_max_tokens: count('rollout-max-tokens', values['rollout-max-tokens'], DEFAULT_REAL_EFT.rollout_max_tokens),
      annotator_max_tokens: count('annotator-max-tokens', values['annotator-max-tokens'], DEFAULT_REAL_EFT.annotator_max_tokens),
    };
    const t0 = performance.now();
    const recs = await buildRealEft(problems, t, { policy, verifier, annotator }, o, path.join(values.out, 'records.jsonl'), (l) => process.stderr.write(l + '\n'));
    // held-out split by a hash of the problem id, so a problem's pairs never straddle train and test
    const share = Number(values['test-share']);
    const isTest = (id: string) => hashText(id) % 1000 < share * 1000;
    const rows = (test: boolean) => recs.filter((r) => isTest(r.problem_id) === test).flatMap((r) => r.pairs.filter((x) => x.kept).flatMap((x) => pairExamples(t, x)));
    const jl = (xs: unknown[]) => xs.map((x) => JSON.stringify(x) + '\n').join('');
    writeFileAtomic(path.join(values.out, 'eft-train.jsonl'), jl(rows(false)));
    writeFileAtomic(path.join(values.out, 'eft-test.jsonl'), jl(rows(true)));
    const counts = eftCounts(recs);
    writeJSONAtomic(path.join(values.out, 'manifest.json'), { format: 'psrlm-real-eft', input: values.input, engines: { policy: policy.name, verifier: vm[1] === 'prm' ? verifier.name : 'rollouts on the policy', annotator: annotator.name }, options: o, template: values.template, test_share: share, counts, examples: { train: rows(false).length, test: rows(true).length }, wall_s_this_attempt: Math.round((performance.now() - t0) / 100) / 10 });
    console.log(JSON.stringify(counts));
  } catch (e) {
    console.error(`psrlm data eft: ${(e as Error).message}`);
    return 1;
  } finally {
    await policy.close();
    if (verifier !== policy) await verifier.close();
    await annotator.close();
  }
  return 0;
}

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
    const { openEngine } = await import('../serve/registry.js');
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
  if (sub === 'eft') return eft(rest);
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
