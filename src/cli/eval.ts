// `psrlm eval`: benchmark accuracy with an engine, per problem as JSONL and as a table per benchmark plus
// the average (the paper's Table 1 columns); or `--gold-check`: every benchmark's gold and reference
// solutions graded against its own gold answer, with each miss classified (src/eval/evaluate.ts).
import { createWriteStream } from 'node:fs';
import { BENCHMARKS, TABLE1, loadBenchmark } from '../eval/benchmarks.js';
import { evaluate, goldCheck, type GoldCheckMiss } from '../eval/evaluate.js';
import { PROMPT_NAMES } from '../eval/prompts.js';
import { openEngine } from '../serve/registry.js';
import { command, UsageError } from './args.js';

/** Why a reference solution's extracted answer misses its gold; the classes docs/grading.md explains. */
export function classifyMiss(bench: string, reference: string | undefined, m: GoldCheckMiss): string {
  if (m.timeout) return 'timeout';
  if (reference !== undefined && !/boxed|he answer is|final answer is/.test(reference)) {
    return 'solution has no \\boxed{} and no "the answer is": extraction falls back to its last number';
  }
  if (reference !== undefined && !reference.includes('boxed')) {
    return 'solution has no \\boxed{}: extraction takes all the prose after its last "the answer is"';
  }
  if (/\\textbf\{/.test(m.pred)) return 'AoPS-style \\boxed{\\textbf{(N)}}: strip_string keeps \\textbf';
  if (/=/.test(m.pred) && !/=/.test(m.gold))
    return 'box holds a computation ("a=b=N"): more than one "=" is never split';
  return 'other';
}

export const run = command(
  {
    name: 'eval',
    summary: 'benchmark accuracy with an engine, or --gold-check the benchmarks',
    description:
      `Greedy accuracy per benchmark and their average (the paper's Table 1 columns), per problem as ` +
      `JSONL; or,
with --gold-check, every benchmark's gold and reference solutions graded against its own gold.`,
    flags: {
      engine: {
        type: 'string',
        metavar: 'SPEC',
        help: 'engine to generate with (see the engine registry); required unless --gold-check',
      },
      bench: {
        type: 'list',
        separator: ',',
        choices: BENCHMARKS,
        default: TABLE1,
        help: 'benchmarks, comma-separated',
      },
      prompt: {
        type: 'choice',
        choices: PROMPT_NAMES,
        default: 'qwen25-math-cot',
        help: "the prompt (qwen25-math-cot is the toolkit's)",
      },
      limit: { type: 'int', min: 1, help: 'first N problems of each benchmark' },
      'max-tokens': { type: 'int', min: 1, defaultHelp: "2048, the toolkit's", help: 'per completion' },
      out: {
        type: 'path',
        metavar: 'FILE',
        defaultHelp: 'stdout, with the table on stderr',
        help: 'per-problem results as JSONL',
      },
      strict: { type: 'boolean', help: "fix the toolkit's documented grading bugs (docs/grading.md)" },
      'gold-check': {
        type: 'boolean',
        help: "grade each benchmark's own gold and reference solutions against its gold",
      },
      verbose: { type: 'boolean', help: 'with --gold-check: list every miss' },
    },
  },
  async ({ values }) => {
    const benches = values.bench;
    if (values['gold-check']) return runGoldCheck(benches, values.strict, values.verbose);
    if (!values.engine) {
      throw new UsageError('--engine is required (or use --gold-check): the engine spec to generate with');
    }
    const engine = await openEngine(values.engine);
    const out = values.out ? createWriteStream(values.out) : process.stdout;
    const log = values.out ? console.log : console.error;
    try {
      const { summary, average } = await evaluate(engine, {
        benches,
        prompt: values.prompt,
        limit: values.limit,
        maxTokens: values['max-tokens'],
        strict: values.strict,
        onResult: (r) => out.write(JSON.stringify(r) + '\n'),
      });
      const cols = [...summary.map((s) => s.bench), 'avg'];
      const w = Math.max(...cols.map((c) => c.length), 6);
      log(cols.map((c) => c.padEnd(w)).join('  '));
      log([...summary.map((s) => s.acc.toFixed(1)), average.toFixed(1)].map((c) => c.padEnd(w)).join('  '));
      for (const s of summary)
        if (s.timeouts > 0)
          log(`${s.bench}: ${s.timeouts} comparison(s) timed out (counted wrong, as the toolkit does)`);
      for (const s of summary)
        if (s.errors > 0)
          log(
            `${s.bench}: ${s.errors} problem(s) the engine could not take (counted wrong; see "error" in the ` +
              `per-problem results)`,
          );
    } finally {
      if (values.out) await new Promise((r) => (out as ReturnType<typeof createWriteStream>).end(r));
      await engine.close();
    }
    return 0;
  },
);

async function runGoldCheck(benches: string[], strict: boolean, verbose: boolean): Promise<number> {
  const results = await goldCheck(benches, { strict });
  console.log(`${'benchmark'.padEnd(14)}  ${'gold vs gold'.padEnd(20)}  reference solution vs gold`);
  let bad = 0;
  for (const r of results) {
    const pct = (c: number, n: number) => `${c}/${n} (${((100 * c) / n).toFixed(1)}%)`;
    console.log(
      `${r.bench.padEnd(14)}  ${pct(r.gold.correct, r.gold.n).padEnd(20)}  ` +
        `${r.reference ? pct(r.reference.correct, r.reference.n) : '(no solutions)'}`,
    );
    if (r.gold.correct !== r.gold.n) bad++;
    for (const m of r.gold.misses)
      console.log(`    gold miss #${m.idx}: ${JSON.stringify(m.gold)} vs ${JSON.stringify(m.pred)}`);
    if (!r.reference || r.reference.misses.length === 0) continue;
    const refs = new Map(loadBenchmark(r.bench).map((p) => [p.idx, p.reference]));
    const classes = new Map<string, GoldCheckMiss[]>();
    for (const m of r.reference.misses) {
      const c = classifyMiss(r.bench, refs.get(m.idx), m);
      classes.set(c, [...(classes.get(c) ?? []), m]);
    }
    for (const [c, ms] of classes) {
      console.log(`    ${ms.length} miss(es): ${c}`);
      if (verbose || c === 'other')
        for (const m of ms)
          console.log(
            `      #${m.idx}: gold ${JSON.stringify(m.gold)}, extracted ${JSON.stringify(m.pred.slice(0, 120))}`,
          );
    }
  }
  return bad === 0 ? 0 : 1;
}
