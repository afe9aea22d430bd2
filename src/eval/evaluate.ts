// Benchmark evaluation with an Engine, as the toolkit's math_eval.py does it (docs/grading.md §2.1):
// prompt per problem, greedy decoding (temperature 0, top_p 1, n 1, seed 0, max_tokens 2048 by default),
// output stripped and cut at the first stop word, prediction = strip_string(extract_answer(output)), graded
// by math_equal with a 3 s limit (timeout = wrong), accuracy = mean × 100 rounded to one decimal, and the
// average of the per-benchmark accuracies (the paper's Table 1 layout). Also the gold check: each
// benchmark's own reference solution (or its raw gold, where it has no solution) graded against its gold.
import type { Engine } from '../engine/types.js';
import { loadBenchmark, type BenchmarkProblem, type LoadOptions } from './benchmarks.js';
import { extractPrediction } from './extract.js';
import { GradePool, type PoolOptions } from './grade.js';
import { buildPrompt, cleanOutput, STOP_WORDS } from './prompts.js';
import { rawGold } from './benchmarks.js';

export interface EvalOptions extends LoadOptions {
  benches: string[];
  prompt?: string;
  limit?: number;
  maxTokens?: number;
  seed?: number;
  /** Problems sent to the engine per generate() call. */
  batchSize?: number;
  strict?: boolean;
  pool?: PoolOptions;
  /** A grading pool to use (and leave open) instead of starting one: a caller that grades often shares
   *  one, as starting its worker takes a while. */
  grader?: GradePool;
  /** Called with each graded problem, in order (e.g. to stream JSONL). */
  onResult?: (r: ProblemResult) => void;
}

export interface ProblemResult {
  bench: string;
  idx: number;
  question: string;
  gold: string;
  output: string;
  pred: string;
  correct: boolean;
  timeout: boolean;
  finish_reason?: string;
  /** Why the problem never reached the model (e.g. a character the engine's tokenizer lacks). */
  error?: string;
}

export interface BenchSummary {
  bench: string;
  n: number;
  correct: number;
  /** mean × 100 rounded to one decimal, as the toolkit reports it. */
  acc: number;
  timeouts: number;
  empty: number;
  /** Problems the engine could not take (counted wrong, as the toolkit counts a failed generation). */
  errors: number;
}

/** numpy.round(x, 1) for the values accuracy takes: half to even on the decimal, via the exact fraction. */
export function roundAcc(correct: number, n: number): number {
  if (n === 0) return 0;
  const tenths = (correct * 1000) / n; // accuracy in tenths of a percent
  const lo = Math.floor(tenths);
  const frac = tenths - lo;
  const r = frac > 0.5 || (frac === 0.5 && lo % 2 === 1) ? lo + 1 : lo;
  return r / 10;
}

export async function evaluate(
  engine: Engine,
  opts: EvalOptions,
): Promise<{ results: ProblemResult[]; summary: BenchSummary[]; average: number }> {
  const pool = opts.grader ?? new GradePool({ strict: opts.strict, ...opts.pool });
  const results: ProblemResult[] = [];
  const summary: BenchSummary[] = [];
  try {
    for (const bench of opts.benches) {
      let problems = loadBenchmark(bench, opts);
      if (opts.limit !== undefined) problems = problems.slice(0, opts.limit);
      const batch = Math.max(1, opts.batchSize ?? 64);
      const benchResults: ProblemResult[] = [];
      for (let i = 0; i < problems.length; i += batch) {
        // a prompt the engine cannot encode (the embedded model reads ASCII only) is recorded as an
        // error and counted wrong, instead of failing the whole benchmark
        const chunk: BenchmarkProblem[] = [];
        for (const p of problems.slice(i, i + batch)) {
          const why = engine.unreadable?.(buildPrompt(opts.prompt ?? 'qwen25-math-cot', p.question)) ?? null;
          if (why === null) {
            chunk.push(p);
          } else {
            const r: ProblemResult = {
              bench,
              idx: p.idx,
              question: p.question,
              gold: p.gold,
              output: '',
              pred: '',
              correct: false,
              timeout: false,
              error: why,
            };
            opts.onResult?.(r);
            benchResults.push(r);
          }
        }
        if (!chunk.length) continue;
        const prompts = chunk.map((p) => buildPrompt(opts.prompt ?? 'qwen25-math-cot', p.question));
        const outs = await engine.generate(prompts, {
          n: 1,
          temperature: 0,
          top_p: 1,
          max_tokens: opts.maxTokens ?? 2048,
          stop: STOP_WORDS,
          seed: opts.seed ?? 0,
        });
        if (outs.length !== chunk.length) {
          throw new Error(`engine ${engine.name} returned ${outs.length} results for ${chunk.length} prompts`);
        }
        const graded = await Promise.all(
          chunk.map(async (p, k) => {
            const c = outs[k][0];
            if (!c) throw new Error(`engine ${engine.name} returned no completion for ${bench} #${p.idx}`);
            const output = cleanOutput(c.text);
            const pred = extractPrediction(output, { dataName: bench, strict: opts.strict });
            const v = await pool.grade({ gold: p.gold, goldNormalized: true, pred, predNormalized: true });
            return {
              bench,
              idx: p.idx,
              question: p.question,
              gold: p.gold,
              output,
              pred,
              correct: v.equal,
              timeout: v.timeout,
              finish_reason: c.finish_reason,
            };
          }),
        );
        for (const r of graded) {
          opts.onResult?.(r);
          benchResults.push(r);
        }
      }
      benchResults.sort((a, b) => a.idx - b.idx);
      results.push(...benchResults);
      summary.push(summarize(bench, benchResults));
    }
  } finally {
    if (!opts.grader) await pool.close();
  }
  const average = summary.length ? summary.reduce((s, b) => s + b.acc, 0) / summary.length : 0;
  return { results, summary, average };
}

function summarize(
  bench: string,
  rs: { correct: boolean; timeout: boolean; pred: string; error?: string }[],
): BenchSummary {
  const correct = rs.filter((r) => r.correct).length;
  return {
    bench,
    n: rs.length,
    correct,
    acc: roundAcc(correct, rs.length),
    timeouts: rs.filter((r) => r.timeout).length,
    empty: rs.filter((r) => !r.pred && !r.error).length,
    errors: rs.filter((r) => r.error).length,
  };
}

export interface GoldCheckMiss {
  idx: number;
  gold: string;
  pred: string;
  timeout: boolean;
}
export interface GoldCheckPart extends BenchSummary {
  misses: GoldCheckMiss[];
}
export interface GoldCheckResult {
  bench: string;
  /** The raw gold answer, as a box's content, against the gold the toolkit computes from it. */
  gold: GoldCheckPart;
  /** The benchmark's reference solution, extracted like a model output, against the gold (where the
   *  benchmark has solutions: gsm8k's text before "####" has no box and is graded by its last number). */
  reference?: GoldCheckPart;
}

/** Grade every benchmark's raw gold and, where it has them, its reference solutions against the gold. */
export async function goldCheck(
  benches: string[],
  opts: LoadOptions & { strict?: boolean; pool?: PoolOptions } = {},
): Promise<GoldCheckResult[]> {
  const pool = new GradePool({ strict: opts.strict, ...opts.pool });
  const out: GoldCheckResult[] = [];
  const part = async (
    bench: string,
    items: { p: BenchmarkProblem; pred: string; normalized: boolean }[],
  ): Promise<GoldCheckPart> => {
    const rows = await Promise.all(
      items.map(async (it) => ({
        ...it,
        v: await pool.grade({ gold: it.p.gold, goldNormalized: true, pred: it.pred, predNormalized: it.normalized }),
      })),
    );
    const s = summarize(
      bench,
      rows.map((r) => ({ correct: r.v.equal, timeout: r.v.timeout, pred: r.pred })),
    );
    return {
      ...s,
      misses: rows
        .filter((r) => !r.v.equal)
        .map((r) => ({ idx: r.p.idx, gold: r.p.gold, pred: r.pred, timeout: r.v.timeout })),
    };
  };
  try {
    for (const bench of benches) {
      const problems: BenchmarkProblem[] = loadBenchmark(bench, opts);
      const gold = await part(
        bench,
        problems.map((p) => ({ p, pred: rawGold(p.bench, p.raw, opts.strict), normalized: false })),
      );
      const withRef = problems.filter((p) => p.reference !== undefined);
      const reference =
        withRef.length === 0
          ? undefined
          : await part(
              bench,
              withRef.map((p) => ({
                p,
                pred: extractPrediction(p.reference!, { dataName: bench, strict: opts.strict }),
                normalized: true,
              })),
            );
      out.push({ bench, gold, reference });
    }
  } finally {
    await pool.close();
  }
  return out;
}
