// Questions for the self-rewarding loop from a file (paper §4: iterations 1-3 search 400, 800 and 1,200
// questions sampled from NuminaMath's train split), in place of the synthetic world's train split.
//
// A run config names the file in a `questions` section, checked strictly (an unknown key is an error
// naming it and the allowed keys):
//   questions: { file, format: numina | gsm8k | math | jsonl, question_field?, answer_field? }
// Each non-blank line of the JSONL file is one row; what each format reads (the *_field keys rename the
// field read):
//   gsm8k   question `question`; gold after the last `####` of `answer`, thousands commas removed
//   math    question `problem`; gold the `answer` field where the row has one, else the last \boxed{} of
//           `solution` (with answer_field set, only that field)
//   numina  question `problem`; gold the last \boxed{} of `solution` (answer_field: the solution's field)
//   jsonl   question `question`; gold the `answer` field as it is (a string or a number)
// A row that is not a JSON object, or has no question text, is an error naming its line. Gold answers are
// not used inside the loop (the paper's method has no answer check); they travel with the questions for
// measurement. A row without a readable gold (a proof in NuminaMath) is left out and counted.
//
// Contamination: a question whose normalised text equals the normalised question of any row of the
// evaluation benchmarks (data/benchmarks, src/eval/benchmarks.ts) is refused and counted, per benchmark.
// Normalisation (normaliseQuestion): Unicode NFKC, lower case, every run of characters that are neither
// letters nor digits (whitespace, punctuation, LaTeX's `\ { } $ ^`) replaced by one space, trimmed. So a
// copy that differs in spacing, line breaks, case, punctuation or markup spacing is caught; a paraphrase
// or a changed number is not. Rows whose normalised question repeats an earlier row's are left out and
// counted, so no question can be searched twice.
//
// The draw (drawQuestions): the usable questions are shuffled once by the run seed (a stream of its own),
// and iteration t takes the next counts[t-1] of that order, after those of iterations 1..t-1. So the
// iterations' questions are disjoint, each depends only on the seed, the file and the counts up to t, and
// a resumed run draws the same ones. A question's coordinate for seeds is its row index in the file.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { deriveSeed, Rng } from '../engine/rng.js';
import { BENCHMARKS, defaultDataDir, type BenchmarkName } from '../eval/benchmarks.js';
import { lastBoxed } from '../eval/extract.js';
import { gsm8kGold } from './segment.js';

export const QUESTION_FORMATS = ['numina', 'gsm8k', 'math', 'jsonl'] as const;
export type QuestionFormat = (typeof QUESTION_FORMATS)[number];

const KEYS = ['file', 'format', 'question_field', 'answer_field'];

/** The run config's `questions` section. */
export const QuestionsSchema = z.strictObject(
  {
    /** The JSONL file (a relative path: relative to the config file, resolved by the caller). */
    file: z.string().min(1),
    format: z.enum(QUESTION_FORMATS),
    /** The field holding the question (default: the format's). */
    question_field: z.string().min(1).optional(),
    /** The field the gold is read from (default: the format's). */
    answer_field: z.string().min(1).optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `'${k}'`).join(', ')} ` +
          `(allowed: ${KEYS.join(', ')})`
        : undefined,
  },
);
export type QuestionsConfig = z.infer<typeof QuestionsSchema>;

/** Checks a `questions` section; throws one message listing every problem by key. */
export function parseQuestionsConfig(raw: unknown, source = 'questions'): QuestionsConfig {
  const r = QuestionsSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${[source, ...i.path].join('.')}: ${i.message}`);
  throw new Error(`invalid questions section\n${lines.join('\n')}`);
}

export interface Question {
  /** Row index in the file (0-based, blank lines not counted): the question's coordinate for seeds. */
  index: number;
  /** The row's id/idx/unique_id field, else `row <index>`. */
  id: string;
  question: string;
  gold: string;
}

export interface QuestionPoolReport {
  file: string;
  format: QuestionFormat;
  rows: number;
  /** Questions left to draw from. */
  usable: number;
  /** Refused: the question is a benchmark question; per benchmark (a row can match several). */
  contaminated: number;
  contaminated_by: Partial<Record<BenchmarkName, number>>;
  /** The first few refused rows: index and the benchmarks they are in. */
  contaminated_rows: Array<{ index: number; benchmarks: BenchmarkName[] }>;
  /** Left out: the same question as an earlier row. */
  duplicates: number;
  /** Left out: no gold answer could be read. */
  no_answer: number;
}

export interface QuestionPool {
  questions: Question[];
  report: QuestionPoolReport;
}

/** Whitespace, case, punctuation and markup normalisation for the contamination check (see above). */
export function normaliseQuestion(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * Normalised benchmark question -> the benchmarks holding it, over every row of every benchmark file
 * (src/eval/benchmarks.ts's files and question fields; the rows are read directly, as their golds are not
 * needed and computing MATH's takes seconds).
 */
export function benchmarkQuestions(dir = defaultDataDir()): Map<string, BenchmarkName[]> {
  const index = new Map<string, BenchmarkName[]>();
  for (const b of BENCHMARKS) {
    const file = path.join(dir, b, 'test.jsonl');
    if (!existsSync(file))
      throw new Error(`benchmark file ${file} is missing: the contamination check reads every benchmark in ${dir}`);
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((l, i) => {
        if (!l.trim()) return;
        let row: Record<string, unknown>;
        try {
          row = JSON.parse(l) as Record<string, unknown>;
        } catch {
          throw new Error(`${file}:${i + 1}: not valid JSON`);
        }
        // the question field as loadBenchmark picks it (its question may carry an appended " (True or False)")
        const q = ['question', 'problem', 'Question', 'input'].map((k) => row[k]).find((v) => typeof v === 'string') as
          string | undefined;
        const key = q === undefined ? '' : normaliseQuestion(q);
        if (!key) return;
        const have = index.get(key) ?? [];
        if (!have.includes(b)) index.set(key, [...have, b]);
      });
  }
  return index;
}

const DEFAULT_FIELDS: Record<QuestionFormat, { question: string; answer: string }> = {
  gsm8k: { question: 'question', answer: 'answer' },
  math: { question: 'problem', answer: 'answer' },
  numina: { question: 'problem', answer: 'solution' },
  jsonl: { question: 'question', answer: 'answer' },
};

/** A row's gold answer under the format, or null when it has none. */
export function goldOf(cfg: QuestionsConfig, row: Record<string, unknown>): string | null {
  const field = cfg.answer_field ?? DEFAULT_FIELDS[cfg.format].answer;
  const v = row[field];
  const text = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
  switch (cfg.format) {
    case 'gsm8k':
      return text === null || !text.includes('####') ? null : gsm8kGold(text);
    case 'jsonl':
      return text === null || text.trim() === '' ? null : text.trim();
    case 'math':
      if (text !== null && text.trim() !== '') return text.trim();
      if (cfg.answer_field !== undefined || typeof row.solution !== 'string') return null;
      return boxed(row.solution);
    case 'numina':
      return text === null ? null : boxed(text);
  }
}

function boxed(solution: string): string | null {
  if (!solution.includes('\\boxed{')) return null;
  const b = lastBoxed(solution)?.trim();
  return b ? b : null;
}

export interface LoadQuestionsOptions {
  /** Folder a relative `file` is relative to (the config file's); default: the working directory. */
  relativeTo?: string;
  /** Benchmark folder for the contamination check (default: the repo's data/benchmarks). */
  benchmarks?: string;
}

/** Reads the question file (streamed: NuminaMath's is large), refusing benchmark questions. */
export async function loadQuestions(cfg: QuestionsConfig, o: LoadQuestionsOptions = {}): Promise<QuestionPool> {
  const file = path.resolve(o.relativeTo ?? '.', cfg.file);
  if (!existsSync(file)) throw new Error(`questions.file: ${file} not found`);
  const bench = benchmarkQuestions(o.benchmarks);
  const qField = cfg.question_field ?? DEFAULT_FIELDS[cfg.format].question;
  const report: QuestionPoolReport = {
    file: cfg.file,
    format: cfg.format,
    rows: 0,
    usable: 0,
    contaminated: 0,
    contaminated_by: {},
    contaminated_rows: [],
    duplicates: 0,
    no_answer: 0,
  };
  const questions: Question[] = [];
  const seen = new Set<string>();
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    line++;
    if (!text.trim()) continue;
    const index = report.rows++;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch {
      throw new Error(`${file}:${line}: not valid JSON (one JSON object per line)`);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw new Error(`${file}:${line}: not a JSON object`);
    const r = row as Record<string, unknown>;
    const q = r[qField];
    if (typeof q !== 'string' || !q.trim()) {
      throw new Error(
        `${file}:${line}: no question text in field '${qField}' (format ${cfg.format}); ` +
          'set questions.question_field to the field that holds it',
      );
    }
    const key = normaliseQuestion(q);
    const hit = bench.get(key);
    if (hit) {
      report.contaminated++;
      for (const b of hit) report.contaminated_by[b] = (report.contaminated_by[b] ?? 0) + 1;
      if (report.contaminated_rows.length < 10) report.contaminated_rows.push({ index, benchmarks: hit });
      continue;
    }
    if (seen.has(key)) {
      report.duplicates++;
      continue;
    }
    seen.add(key);
    const gold = goldOf(cfg, r);
    if (gold === null) {
      report.no_answer++;
      continue;
    }
    const id = r.id ?? r.idx ?? r.unique_id;
    questions.push({
      index,
      id: typeof id === 'string' || typeof id === 'number' ? String(id) : `row ${index}`,
      question: q.trim(),
      gold,
    });
  }
  report.usable = questions.length;
  return { questions, report };
}

/**
 * Iteration t's questions (1-based): counts[t-1] of them, after those of iterations 1..t-1, in row order.
 * `counts` are every iteration's (the paper's 400, 800, 1,200, scaled): all of them must fit the pool, so
 * a run too large for its file fails before its first search.
 */
export function drawQuestions(
  pool: readonly Question[],
  counts: readonly number[],
  seed: number,
  t: number,
): Question[] {
  if (!Number.isInteger(t) || t < 1 || t > counts.length)
    throw new Error(`drawQuestions: iteration ${t} is not in 1..${counts.length}`);
  if (!counts.every((c) => Number.isInteger(c) && c >= 1))
    throw new Error(`drawQuestions: counts must be positive integers (got ${counts.join(', ')})`);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total > pool.length) {
    throw new Error(
      `questions: the iterations need ${total} questions (${counts.join(' + ')}) but the file has ` +
        `${pool.length} usable ones; lower problems or problem_scale, or use a larger file`,
    );
  }
  const sorted = pool.slice().sort((a, b) => a.index - b.index);
  const order = new Rng(deriveSeed(seed, 'questions')).shuffle(sorted.map((_, i) => i));
  const from = counts.slice(0, t - 1).reduce((a, b) => a + b, 0);
  return order
    .slice(from, from + counts[t - 1]!)
    .sort((a, b) => a - b)
    .map((i) => sorted[i]!);
}
