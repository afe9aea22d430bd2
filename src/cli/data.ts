// `psrlm data build`: writes base / IFT / EFT JSONL and a manifest (docs/world.md "Schemas").
// `psrlm data segment`: IFT from real worked solutions (src/data/segment-run.ts, docs/data.md).
// `psrlm data eft`: EFT by verified step search (src/data/real-eft.ts, docs/data.md).
import { readFileSync } from 'node:fs';
import { buildData, dataConfig } from '../data/build.js';
import { listTemplates } from '../data/templates.js';
import { command, group, UsageError } from './args.js';

const template = (dflt: string) =>
  ({
    type: 'choice',
    choices: () => listTemplates(),
    metavar: 'NAME',
    help: 'prompt template',
    default: dflt,
  }) as const;
// the verifier is the policy's own rollouts or a process reward model's engine spec
const VERIFIER = /^(rollouts|prm)(?:=(.+))?$/;

const eft = command(
  {
    name: 'data eft',
    summary: 'EFT by verified step search: pairs kept when the annotator agrees with the verifier',
    description: `Step-wise pairwise judgments by verified step search (docs/data.md): per layer w sampled steps,
scored by Math-Shepherd rollouts (k completions graded against the gold) or a PRM's P("+"); best vs worst;
the annotator judges both orders and a pair is kept only when it agrees with the verifier in both. Writes
records.jsonl (resumable), eft-train.jsonl, eft-test.jsonl (held out by problem) and manifest.json.`,
    flags: {
      input: {
        type: 'path',
        exists: 'file',
        required: true,
        metavar: 'JSONL',
        help: 'problems with their gold answers',
      },
      engine: { type: 'string', required: true, metavar: 'SPEC', help: 'the policy engine that samples the steps' },
      verifier: {
        type: 'string',
        default: 'rollouts',
        metavar: 'rollouts|prm=SPEC',
        expected: "'rollouts' or 'prm=<engine spec>'",
        check: (v) => {
          const m = VERIFIER.exec(v);
          return !!m && (m[1] !== 'prm' || !!m[2]);
        },
        help: "'rollouts' (the policy engine rolls out) or 'prm=<engine spec>'",
      },
      annotator: {
        type: 'string',
        required: true,
        metavar: 'SPEC',
        help: 'the engine that judges each pair in both orders',
      },
      out: { type: 'path', required: true, metavar: 'DIR', help: 'output directory' },
      limit: { type: 'int', min: 1, help: 'first N problems of --input' },
      width: { type: 'int', min: 1, default: 6, help: 'sampled steps per layer' },
      rollouts: { type: 'int', min: 1, default: 4, help: 'completions per step for the rollout verifier' },
      concurrency: {
        type: 'int',
        min: 1,
        default: 8,
        help: 'problems searched side by side (a served engine batches their calls)',
      },
      'test-share': {
        type: 'number',
        min: 0,
        max: 1,
        default: 0.1,
        help: 'share of problems held out for eft-test.jsonl',
      },
      template: template('paper'),
      seed: { type: 'int', default: 0, help: 'seed of every draw' },
      'max-layers': { type: 'int', min: 1, defaultHelp: 'src/data/real-eft.ts', help: 'steps searched per problem' },
      'max-step-tokens': {
        type: 'int',
        min: 1,
        defaultHelp: 'src/data/real-eft.ts',
        help: 'tokens of one sampled step',
      },
      'rollout-max-tokens': { type: 'int', min: 1, defaultHelp: 'src/data/real-eft.ts', help: 'tokens of one rollout' },
      'annotator-max-tokens': {
        type: 'int',
        min: 1,
        defaultHelp: 'src/data/real-eft.ts',
        help: "tokens of the annotator's verdict",
      },
    },
  },
  async ({ values }) => {
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
    const cached = (spec: string, name: string) =>
      spec.startsWith('openai:') && !/[?&]cache=/.test(spec)
        ? `${spec}${spec.includes('?') ? '&' : '?'}cache=${path.join(values.out, `calls-${name}.jsonl`)}`
        : spec;
    const vm = VERIFIER.exec(values.verifier)!;
    const policy = await openEngine(cached(values.engine, 'policy'));
    const verifier = vm[1] === 'prm' ? await openEngine(cached(vm[2]!, 'prm')) : policy;
    const annotator = await openEngine(cached(values.annotator, 'annotator'));
    try {
      const t = loadTemplate(values.template);
      let problems = rf(values.input, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l, i) => {
          const s = sourceOf(JSON.parse(l) as Record<string, unknown>, i);
          return { id: s.id, question: s.question, gold: s.gold };
        });
      if (values.limit !== undefined) problems = problems.slice(0, values.limit);
      const o = {
        ...DEFAULT_REAL_EFT,
        width: values.width,
        rollouts: values.rollouts,
        verifier: vm[1] as 'rollouts' | 'prm',
        seed: values.seed,
        max_layers: values['max-layers'] ?? DEFAULT_REAL_EFT.max_layers,
        max_step_tokens: values['max-step-tokens'] ?? DEFAULT_REAL_EFT.max_step_tokens,
        rollout_max_tokens: values['rollout-max-tokens'] ?? DEFAULT_REAL_EFT.rollout_max_tokens,
        annotator_max_tokens: values['annotator-max-tokens'] ?? DEFAULT_REAL_EFT.annotator_max_tokens,
      };
      const t0 = performance.now();
      const recs = await buildRealEft(
        problems,
        t,
        { policy, verifier, annotator },
        o,
        path.join(values.out, 'records.jsonl'),
        (l) => process.stderr.write(l + '\n'),
        values.concurrency,
      );
      // held-out split by a hash of the problem id, so a problem's pairs never straddle train and test
      const share = values['test-share'];
      const isTest = (id: string) => hashText(id) % 1000 < share * 1000;
      const rows = (test: boolean) =>
        recs
          .filter((r) => isTest(r.problem_id) === test)
          .flatMap((r) => r.pairs.filter((x) => x.kept).flatMap((x) => pairExamples(t, x)));
      const jl = (xs: unknown[]) => xs.map((x) => JSON.stringify(x) + '\n').join('');
      writeFileAtomic(path.join(values.out, 'eft-train.jsonl'), jl(rows(false)));
      writeFileAtomic(path.join(values.out, 'eft-test.jsonl'), jl(rows(true)));
      const counts = eftCounts(recs);
      writeJSONAtomic(path.join(values.out, 'manifest.json'), {
        format: 'psrlm-real-eft',
        input: values.input,
        engines: {
          policy: policy.name,
          verifier: vm[1] === 'prm' ? verifier.name : 'rollouts on the policy',
          annotator: annotator.name,
        },
        options: o,
        template: values.template,
        test_share: share,
        counts,
        examples: { train: rows(false).length, test: rows(true).length },
        wall_s_this_attempt: Math.round((performance.now() - t0) / 100) / 10,
      });
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
  },
);

const segment = command(
  {
    name: 'data segment',
    summary: 'IFT from real worked solutions, split into validated "Step n:" steps',
    description: `Splits worked solutions into "Step n:" steps (GSM8K by its own lines with --segmenter gsm8k, or a
model with the paper's Fig. 3 prompt with --engine; one of the two is required), validates each (numbering,
text unchanged but for markers and whitespace, a final \\boxed{} equal to the gold by the grader) and writes
IFT records to --out, rejected items with their reason to <out>.rejected.jsonl and counts to
<out>.manifest.json. Reruns resume.`,
    flags: {
      input: { type: 'path', exists: 'file', required: true, metavar: 'JSONL', help: 'worked solutions' },
      out: { type: 'path', required: true, metavar: 'JSONL', help: 'the IFT records' },
      segmenter: { type: 'choice', choices: ['gsm8k'], help: "split by the solution's own lines" },
      engine: { type: 'string', metavar: 'SPEC', help: "a model that segments with the paper's prompt" },
      template: template('paper'),
      batch: { type: 'int', min: 1, default: 16, help: 'solutions per engine batch' },
      'max-tokens': { type: 'int', min: 1, default: 1024, help: 'tokens of one segmented solution' },
      limit: { type: 'int', min: 1, help: 'first N solutions of --input' },
    },
  },
  async ({ values }) => {
    if (!values.segmenter && !values.engine) {
      throw new UsageError('give --segmenter gsm8k or --engine <spec>: one of them segments the solutions');
    }
    const { runSegment } = await import('../data/segment-run.js');
    let engine;
    if (values.engine) {
      const { openEngine } = await import('../serve/registry.js');
      let spec = values.engine;
      // every remote call goes through the call cache
      if (spec.startsWith('openai:') && !/[?&]cache=/.test(spec))
        spec += `${spec.includes('?') ? '&' : '?'}cache=${values.out}.calls.jsonl`;
      engine = await openEngine(spec);
    }
    try {
      const r = await runSegment({
        input: values.input,
        out: values.out,
        segmenter: values.segmenter,
        engine,
        template: values.template,
        batch: values.batch,
        max_tokens: values['max-tokens'],
        limit: values.limit,
        log: (l) => process.stderr.write(l + '\n'),
      });
      console.log(
        `kept ${r.kept}, rejected ${JSON.stringify(r.rejected)} (${r.skipped} were already done); ` +
          `manifest ${values.out}.manifest.json`,
      );
    } catch (e) {
      console.error(`psrlm data segment: ${(e as Error).message}`);
      return 1;
    } finally {
      await engine?.close();
    }
    return 0;
  },
);

const build = command(
  {
    name: 'data build',
    summary: 'the synthetic base, IFT and EFT data sets and their manifest',
    description: `Writes base.jsonl (M0's corpus), ift.jsonl, eft-train.jsonl, eft-test.jsonl (the judge benchmark),
eft-harder.jsonl and manifest.json into --out. --config is a JSON object merged over the defaults
(keys: seed, template, world, base, ift, eft, pools, budget; see docs/world.md). --scale multiplies the
base, IFT and EFT-train sizes (e.g. 0.1 for a quick build).`,
    flags: {
      out: { type: 'path', default: 'runs/data', metavar: 'DIR', help: 'output directory' },
      config: { type: 'path', exists: 'file', metavar: 'FILE.json', help: 'a JSON object merged over the defaults' },
      seed: { type: 'int', help: "the world's seed", defaultHelp: "the config's" },
      template: {
        type: 'choice',
        choices: () => listTemplates(),
        metavar: 'NAME',
        help: 'prompt template',
        defaultHelp: "the config's",
      },
      scale: { type: 'number', above: 0, metavar: 'F', help: 'multiplies the base, IFT and EFT-train sizes' },
    },
  },
  async ({ values }) => {
    let partial: Record<string, unknown> = {};
    if (values.config) {
      try {
        partial = JSON.parse(readFileSync(values.config, 'utf8'));
      } catch (err) {
        throw new UsageError(
          `--config must be a readable JSON file, got '${values.config}': ${(err as Error).message}`,
        );
      }
    }
    if (values.seed !== undefined) partial.seed = values.seed;
    if (values.template !== undefined) partial.template = values.template;
    const cfg = dataConfig(partial);
    if (values.scale !== undefined) {
      const f = values.scale;
      cfg.base.problems = Math.round(cfg.base.problems * f);
      cfg.base.practice = Math.round(cfg.base.practice * f);
      cfg.ift.problems = Math.round(cfg.ift.problems * f);
      cfg.eft.trainPairs = Math.round(cfg.eft.trainPairs * f);
    }
    const t0 = Date.now();
    const m = buildData(cfg, values.out);
    for (const [name, f] of Object.entries(m.files)) {
      console.log(
        `${name.padEnd(17)} ${String(f.records).padStart(6)} records, chars mean ${f.chars.mean} ` +
          `p95 ${f.chars.p95} max ${f.chars.max} (over ${f.chars.budget}: ${f.chars.over_budget})`,
      );
    }
    console.log(`IFT steps per problem: ${JSON.stringify(m.steps.ift)}`);
    console.log(`EFT train wrong-step kinds: ${JSON.stringify(m.eft['eft-train'].kinds)}`);
    console.log(
      `wrote ${values.out}/manifest.json (seed ${m.seed}, template ${m.template}) ` +
        `in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    return 0;
  },
);

export const run = group({
  name: 'data',
  summary: 'build the base, IFT and EFT data sets and their manifest',
  commands: { build, segment, eft },
});
