// Benchmark loaders: the seven test files in data/benchmarks/ (provenance in data/README.md), each read
// the way the toolkit's data_loader and parse_ground_truth read it (docs/grading.md §1):
//   gsm8k          gold = answer.split("####")[-1]
//   math, math500  gold = last \boxed{} of `solution` (simpleRL-reason's math500 branch; differs from the
//                  `answer` field on one MATH-500 row, test/algebra/101.json)
//   gaokao2023en   gold = answer.replace("$", "").strip()
//   olympiadbench  gold = final_answer[0].strip("$") (multiple answers stay one comma-joined string)
//   aime24, amc23  gold = answer (AMC's are floats: 27.0 -> "27" after strip_string)
// then strip_string. Rows get `idx` by position when absent and are sorted by it; the question is the first
// of question/problem/Question/input, with " (True or False)" / " (Yes or No)" appended for such golds.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extractAnswer } from './extract.js';
import { stripString, pyStr } from './normalize.js';

export const BENCHMARKS = ['gsm8k', 'math500', 'gaokao2023en', 'olympiadbench', 'aime24', 'amc23', 'math'] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];
/** The paper's Table 1 columns, in its order (full MATH is extra). */
export const TABLE1: readonly BenchmarkName[] = [
  'gsm8k',
  'math500',
  'gaokao2023en',
  'olympiadbench',
  'aime24',
  'amc23',
];

export interface BenchmarkProblem {
  bench: BenchmarkName;
  idx: number;
  question: string;
  /** Gold answer as the toolkit computes it (parse_ground_truth, strip_string applied). */
  gold: string;
  /** The benchmark's reference solution text, where it has one (gold-check grades it). */
  reference?: string;
  /** Subject/type and level, where present (MATH). */
  type?: string;
  level?: string | number;
  raw: Record<string, unknown>;
}

export interface LoadOptions {
  /** Folder holding <bench>/test.jsonl (default: the repo's data/benchmarks). */
  dir?: string;
  strict?: boolean;
}

export function defaultDataDir(): string {
  return fileURLToPath(new URL('../../../data/benchmarks/', import.meta.url));
}

function isBenchmark(name: string): name is BenchmarkName {
  return (BENCHMARKS as readonly string[]).includes(name);
}

/** The raw gold answer, before strip_string: parse_ground_truth's per-benchmark rule. */
export function rawGold(bench: BenchmarkName, row: Record<string, unknown>, strict = false): string {
  switch (bench) {
    case 'gsm8k':
      return pyStr(row.answer).split('####').pop() ?? '';
    case 'math':
    case 'math500':
      return extractAnswer(pyStr(row.solution), { dataName: bench, strict });
    case 'gaokao2023en':
      return pyStr(row.answer).replaceAll('$', '').trim();
    case 'olympiadbench': {
      const fa = row.final_answer;
      if (!Array.isArray(fa) || fa.length === 0)
        throw new Error(`olympiadbench row ${pyStr(row.id)}: final_answer is not a non-empty list`);
      return pyStr(fa[0]).replace(/^\$+|\$+$/g, '');
    }
    case 'aime24':
    case 'amc23':
      return pyStr(row.answer);
  }
}

/** The reference solution text of a row, used by the gold check. */
function referenceText(bench: BenchmarkName, row: Record<string, unknown>): string | undefined {
  switch (bench) {
    // The whole answer field: its "#### N" line makes the last number the answer (the GSM8K convention).
    case 'gsm8k':
      return pyStr(row.answer);
    case 'math':
    case 'math500':
    case 'aime24':
      return typeof row.solution === 'string' ? row.solution : undefined;
    case 'olympiadbench':
      return Array.isArray(row.solution) ? pyStr(row.solution[0]) : undefined;
    default:
      return undefined;
  }
}

export function loadBenchmark(name: string, opts: LoadOptions = {}): BenchmarkProblem[] {
  if (!isBenchmark(name)) {
    throw new Error(`unknown benchmark '${name}': use one of ${BENCHMARKS.join(', ')}`);
  }
  const file = `${opts.dir ?? defaultDataDir()}${opts.dir && !opts.dir.endsWith('/') ? '/' : ''}${name}/test.jsonl`;
  if (!existsSync(file))
    throw new Error(`benchmark file ${file} is missing: the repo ships it under data/benchmarks/${name}/`);
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`${file}:${i + 1}: not valid JSON`);
      }
    });
  const withIdx = rows.map((r, i) => ('idx' in r ? r : { idx: i, ...r }));
  withIdx.sort((a, b) => Number(a.idx) - Number(b.idx));
  return withIdx.map((row) => {
    const gold = stripString(rawGold(name, row, opts.strict), { strict: opts.strict });
    let question = '';
    for (const k of ['question', 'problem', 'Question', 'input']) {
      if (k in row) {
        question = pyStr(row[k]);
        break;
      }
    }
    const low = gold.toLowerCase();
    if (low === 'true' || low === 'false') question += ' (True or False)';
    if (low === 'yes' || low === 'no') question += ' (Yes or No)';
    return {
      bench: name,
      idx: Number(row.idx),
      question: question.trim(),
      gold,
      reference: referenceText(name, row),
      type: typeof row.type === 'string' ? row.type : typeof row.subject === 'string' ? row.subject : undefined,
      level: row.level as string | number | undefined,
      raw: row,
    };
  });
}
