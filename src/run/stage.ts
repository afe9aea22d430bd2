// A stage of a run (src/run/loop.ts): what it is given, and the run-directory conventions every stage of
// every method keeps, so that a run killed at any moment resumes to the same artifacts:
//   - a stage writes its outputs, then its completion marker iter-t/done/<stage> (the loop writes it last);
//   - per-question records are appended to a JSONL file as they finish, and read back after a kill with a
//     torn last line dropped, so a restarted stage skips the questions already recorded;
//   - iteration t asks fresh questions: the train-split range after those of iterations 1..t-1, or, with
//     questions from a file (config `questions`), its own draw from the file's pool, disjoint from the
//     other iterations' (drawQuestions in src/data/questions.ts).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readResumableJsonl, toJsonl } from '../util/resumable-jsonl.js';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { Engine } from '../engine/types.js';
import type { DataConfig } from '../data/build.js';
import { drawQuestions, type Question, type QuestionPool } from '../data/questions.js';
import type { GradePool } from '../eval/grade.js';
import type { PromptTemplate } from '../data/templates.js';
import { problemsOf, type RunConfig } from './config.js';

/** What a stage is given besides its iteration, folder and engine. */
export interface StageContext {
  cfg: RunConfig;
  t: PromptTemplate;
  data: DataConfig;
  log: (line: string) => void;
  /** Progress bars on stderr. */
  progress: boolean;
  /** The question file's pool when the config has `questions` (absent: the synthetic world's questions). */
  questions?: QuestionPool;
  /** The run's grading pool (src/eval/grade.ts), started at its first use and closed when the run ends. */
  grader: () => GradePool;
}

/** One resumable step of an iteration, run with M_t's engine open. */
export interface Stage {
  /** Its name: the completion marker iter-t/done/<name> and its key in timings.json. */
  name: string;
  /** Whether it generates with M_t (its engine tokens are counted); a stage that only reads files does not. */
  generates: boolean;
  /** Whether the stage belongs to a run with this config (absent: always); a stage that does not is
   *  neither run nor marked. */
  applies?: (ctx: StageContext) => boolean;
  /** Writes the stage's outputs into `dir` (iter-t); the loop marks it done afterwards. */
  run(ctx: StageContext, t: number, dir: string, engine: Engine): Promise<void>;
}

/** The first train-split index and the count of iteration t's questions (fresh questions each iteration). */
export function questionRange(cfg: RunConfig, data: DataConfig, t: number): [number, number] {
  let from = data.pools.loop;
  for (let k = 1; k < t; k++) from += problemsOf(cfg, k);
  return [from, problemsOf(cfg, t)];
}

/** Iteration t's questions from the file, or null when the run asks the synthetic world's. */
export function fileQuestions(ctx: Pick<StageContext, 'cfg' | 'questions'>, t: number): Question[] | null {
  if (!ctx.questions) return null;
  const counts = Array.from({ length: ctx.cfg.iterations }, (_, k) => problemsOf(ctx.cfg, k + 1));
  return drawQuestions(ctx.questions.questions, counts, ctx.cfg.seed, t);
}

export const isDone = (dir: string, stage: string): boolean => existsSync(path.join(dir, 'done', stage));

export function mark(dir: string, stage: string): void {
  mkdirSync(path.join(dir, 'done'), { recursive: true });
  writeFileAtomic(path.join(dir, 'done', stage), '');
}

export const jsonl = toJsonl;

/** The records of a partly written JSONL file, a torn last line (a kill mid-append) cut off. */
export const readRecords = readResumableJsonl;

/** A JSON file of a run, or null when it is not there (a stage not run, a run not finished). */
export function readJSONIf<T>(file: string): T | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    const why = (e as Error).message;
    throw new Error(`${file} is not valid JSON (${why}): rerun the stage that writes it or remove the file`);
  }
}

/** A JSON file a finished stage wrote. */
export function readJSON<T>(file: string): T {
  const v = readJSONIf<T>(file);
  if (v === null) throw new Error(`${file} not found: the stage that writes it has not run: run the command again`);
  return v;
}
