// The JSONL records `psrlm data build` writes, and checks that a record has its documented shape
// (docs/world.md "Schemas"). They mirror the paper's records (Fig. 1 of arXiv:2503.03746): IFT {x, y},
// EFT {x, s_1..s_{l-1}, s_l^1, s_l^2, judge}; every trainable record also carries the SFTExample fields
// the engine's trainer takes (prompt, completion, eos).
import { readFileSync } from 'node:fs';
import type { Split } from '../world/generator.js';

/** base.jsonl: M0's corpus, plain text documents (no prompt/completion split: the whole text is trained). */
export interface BaseRecord {
  id: string;
  type: 'solution' | 'practice';
  /** Problem coordinates for `solution`; for `practice`, the split is train and the index the document's. */
  split: Split;
  index: number;
  text: string;
}

/** The fields every trainable record of one problem carries: its coordinates, the SFTExample the engine's
 *  trainer takes (prompt, completion, eos) and the problem text. */
export interface ProblemExample {
  id: string;
  split: Split;
  /** Problem index in its split. */
  index: number;
  prompt: string;
  completion: string;
  eos: true;
  problem: string;
}

/** ift.jsonl: step-format solutions under the step prompt. */
export interface IftRecord extends ProblemExample {
  /** `Step 1: …\n…Step k: \boxed{a}\n` */
  completion: string;
  answer: number;
  steps: number;
}

/** eft-*.jsonl: one pairwise judgment, one of the two orders of a pair. */
export interface EftRecord extends ProblemExample {
  /** Pair number within the file; the two orders of a pair share it. */
  pair: number;
  /** 'AB': the better step is shown as A; 'BA': as B. */
  order: 'AB' | 'BA';
  /** Check line for A, check line for B, verdict. */
  completion: string;
  label: 'A' | 'B';
  /** Earlier steps (bodies), all correct. */
  prefix: string[];
  /** The step number being judged (prefix.length + 1). */
  layer: number;
  step_a: string;
  step_b: string;
  check_a: string;
  check_b: string;
  /** Verifier kind of the wrong step (foreign, digit, …). */
  kind: string;
}

/** eft-single.jsonl: one single-candidate check (src/data/single.ts), right or wrong with equal odds. */
export interface SingleRecord extends ProblemExample {
  /** `A: <check line>` (or `B: …`). */
  completion: string;
  /** Earlier steps (bodies), all correct. */
  prefix: string[];
  /** The step number being checked (prefix.length + 1). */
  layer: number;
  letter: 'A' | 'B';
  step: string;
  check: string;
  ok: boolean;
  /** Verifier kind of the step (`ok` for a right one). */
  kind: string;
}

/** Any record a data file holds. */
export type DataRecord = BaseRecord | IftRecord | EftRecord | SingleRecord;

export interface FileStats {
  file: string;
  records: number;
  sha256: string;
  /** Characters per record (prompt + completion, or text), and how many exceed the budget. */
  chars: { mean: number; p50: number; p95: number; max: number; over_budget: number; budget: number };
}

export interface Manifest {
  format: 'psrlm-data';
  version: 1;
  created_by: string;
  seed: number;
  template: string;
  config: unknown;
  files: Record<string, FileStats>;
  counts: Record<string, number>;
  /** Solution steps per problem (IFT, and base solutions), as a histogram. */
  steps: Record<string, Record<string, number>>;
  /** EFT: wrong-step kinds, labels, layers. */
  eft: Record<
    string,
    { kinds: Record<string, number>; labels: Record<string, number>; layers: Record<string, number> }
  >;
  /** Index ranges of the train split that each pool used (so the loop can take fresh questions after them). */
  pools: Record<string, [number, number]>;
  /** EFT pairs not kept because an example exceeded budget.eft characters. */
  eft_dropped_over_budget: Record<string, number>;
}

function need(cond: boolean, what: string, rec: unknown): void {
  if (!cond) throw new Error(`invalid record (${what}): ${JSON.stringify(rec).slice(0, 200)}`);
}

const isStr = (v: unknown) => typeof v === 'string';
const isInt = (v: unknown) => Number.isInteger(v);

export function validateBase(r: BaseRecord): BaseRecord {
  need(
    isStr(r.id) &&
      (r.type === 'solution' || r.type === 'practice') &&
      isStr(r.split) &&
      isInt(r.index) &&
      isStr(r.text) &&
      r.text.length > 0,
    'base',
    r,
  );
  return r;
}

export function validateIft(r: IftRecord): IftRecord {
  need(
    isStr(r.id) && isStr(r.split) && isInt(r.index) && isStr(r.prompt) && isStr(r.completion) && r.eos === true,
    'ift fields',
    r,
  );
  need(
    r.completion.startsWith('Step 1: ') && r.completion.endsWith('}\n') && r.completion.includes('\\boxed{'),
    'ift completion layout',
    r,
  );
  need(isInt(r.answer) && isInt(r.steps) && r.steps >= 2, 'ift answer/steps', r);
  return r;
}

export function validateEft(r: EftRecord): EftRecord {
  need(
    isStr(r.id) && isStr(r.split) && isInt(r.index) && isInt(r.pair) && (r.order === 'AB' || r.order === 'BA'),
    'eft ids',
    r,
  );
  need(isStr(r.prompt) && isStr(r.completion) && r.eos === true, 'eft prompt/completion', r);
  need((r.label === 'A') === (r.order === 'AB') && (r.label === 'A' || r.label === 'B'), 'eft label/order', r);
  need(r.completion.endsWith(`[[${r.label}]]`), 'eft verdict at the end', r);
  need(Array.isArray(r.prefix) && r.layer === r.prefix.length + 1, 'eft prefix/layer', r);
  need(
    isStr(r.step_a) && isStr(r.step_b) && r.step_a !== r.step_b && isStr(r.check_a) && isStr(r.check_b),
    'eft steps',
    r,
  );
  // A right step's check is `ok` or ends in ` ok` (written arithmetic); a wrong step's never does.
  const says = (c: string) => /(^| )ok$/.test(c);
  need(
    says(r.check_a) === (r.label === 'A') && says(r.check_b) === (r.label === 'B'),
    'eft checks agree with label',
    r,
  );
  return r;
}

export function validateSingle(r: SingleRecord): SingleRecord {
  need(
    isStr(r.id) && isStr(r.split) && isInt(r.index) && isStr(r.prompt) && isStr(r.completion) && r.eos === true,
    'single fields',
    r,
  );
  need(
    (r.letter === 'A' || r.letter === 'B') &&
      r.completion.startsWith(`${r.letter}: `) &&
      r.completion.endsWith(r.check),
    'single letter/completion',
    r,
  );
  need(Array.isArray(r.prefix) && r.layer === r.prefix.length + 1 && isStr(r.step), 'single prefix/layer', r);
  need(/(^| )ok$/.test(r.check) === r.ok && (r.kind === 'ok') === r.ok, 'single check agrees with ok', r);
  return r;
}

/** Reads a JSONL file (one JSON object per non-empty line). */
export function readJsonl<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as T;
      } catch (err) {
        throw new Error(`${file}:${i + 1}: not JSON (${(err as Error).message})`);
      }
    });
}
