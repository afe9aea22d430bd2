// How steps are written and read back. The paper's policy writes `Step n: ` before each step and puts the
// final answer in \boxed{} (Fig. 4 of arXiv:2503.03746); the search stops sampling at a step boundary
// (open choice 5, docs/method.md §3) and finishes when a step holds \boxed{} (open choice 6).
//
// Layout (docs/world.md "Layout"): one step per line, `Step n: <body>\n`. A body is either a quote of the
// problem's words and one operation, `<quote>: x<op>y=z` with plain decimal integers and no spaces
// (`sells 12: 38-12=26`), or the final answer `\boxed{z}`. Every
// step ends with "\n", the final one included, so a sampler can stop on "\n" and a step never runs into
// the next. Numbers are written most-significant digit first, as in the problem text, so that a step's
// operands are literal copies of strings above it (the cheapest check a character model can learn).
//
// A sum or a difference may also be *written out*, in the base corpus's columns, units first, before its
// result: `sells 12: 38-12: 8-2=6 3-1=2 so 26` (docs/world.md "Two ways to do a step"). The columns are the
// writer's scratch work; the step's claim is the same `x<op>y=z`, and the judge reads only the claim
// (`claimOf`), so checking a step costs the same whichever way it was done.
import type { Op } from './generator.js';

/**
 * Token budgets sized for this world's text (one character per token): a step line is at most 62
 * characters (a difference written out in columns, `Step 6: gives away 108: 999-108: …`), and a 7-step
 * solution with every sum and difference written out at most ~330. They are the defaults of the search's step
 * budget and of every whole-solution budget (evaluation, SRLM sampling and scoring, test-time scaling).
 */
export const STEP_TOKENS = 72;
export const SOLUTION_TOKENS = 384;

/** The label before a step's body: `Step 3: `. */
export function stepLabel(n: number): string {
  return `Step ${n}: `;
}

/** One full step line, newline included. */
export function formatStep(n: number, body: string): string {
  return `${stepLabel(n)}${body}\n`;
}

/** The arithmetic part of a step: `38-12=26`. */
export function formatOp(x: number, op: Op, y: number, z: number): string {
  return `${x}${op}${y}=${z}`;
}

/** An arithmetic step body: `sells 12: 38-12=26`. */
export function formatAction(quote: string, x: number, op: Op, y: number, z: number): string {
  return `${quote}: ${formatOp(x, op, y, z)}`;
}

export function formatBoxed(z: number): string {
  return `\\boxed{${z}}`;
}

/** Renders step bodies as numbered step lines (`Step 1: …\nStep 2: …\n`). */
export function renderSteps(bodies: readonly string[], first = 1): string {
  return bodies.map((b, i) => formatStep(first + i, b)).join('');
}

/** A step as read back from text. */
export interface ParsedStep {
  /** The `Step n:` number, or null when the text had no label. */
  n: number | null;
  /** The body, trimmed, without the label. */
  body: string;
  /** The body holds \boxed{…}: the solution ends here. */
  final: boolean;
}

const LABEL_RE = /^\s*Step\s+(\d+)\s*:\s*/;

/** Reads one step (with or without its `Step n:` label). */
export function parseStep(text: string): ParsedStep {
  const m = LABEL_RE.exec(text);
  const body = (m ? text.slice(m[0].length) : text).trim();
  return { n: m ? Number(m[1]) : null, body, final: isFinalStep(body) };
}

/** The body of a step, label and surrounding whitespace removed. */
export function stepBody(text: string): string {
  return parseStep(text).body;
}

/** A step is final when it holds \boxed{…} (the paper's "generation complete"). */
export function isFinalStep(text: string): boolean {
  return /\\boxed\{[^}]*\}/.test(text);
}

/**
 * Splits a solution into steps. A new step starts at each line that begins with `Step n:`; text before
 * the first label is ignored; a step's continuation lines (none in this world) stay with it. Steps after
 * the first final one are dropped, and `final` says whether one was found. Returned steps are full lines
 * without the trailing newline, e.g. `Step 2: 38-12=26`.
 */
export function splitSteps(text: string): { steps: string[]; final: boolean } {
  const steps: string[] = [];
  for (const line of text.split('\n')) {
    if (LABEL_RE.test(line)) steps.push(line.trim());
    else if (steps.length > 0 && line.trim() !== '') steps[steps.length - 1] += `\n${line.trim()}`;
  }
  const k = steps.findIndex((s) => isFinalStep(s));
  return k >= 0 ? { steps: steps.slice(0, k + 1), final: true } : { steps, final: false };
}

/** A written-out body: `sells 12: 38-12: 8-2=6 3-1=2 so 26` (the columns as `work`). */
export function formatWritten(quote: string, x: number, op: Op, y: number, work: string, z: number): string {
  return `${quote}: ${x}${op}${y}: ${work} so ${z}`;
}

/**
 * An arithmetic body `<quote>: x<op>y=z` or its written-out form (`work` holds the columns), or a boxed
 * answer, read exactly; null when the body is none of these.
 */
export type StepValue =
  { type: 'op'; quote: string; x: number; op: Op; y: number; z: number; work?: string } | { type: 'answer'; z: number };

const OP_RE = /^([a-z0-9][a-z0-9 ]{0,30}): (\d{1,6})([+\-*/])(\d{1,6})=(\d{1,7})$/;
// Columns are single-digit facts (`8-2=6`, `1+5+1=7`, `13-7-1=5`) separated by single spaces.
const COLUMN = String.raw`\d{1,2}[+\-]\d(?:[+\-]1)?=\d{1,2}`;
const WRITTEN_RE = new RegExp(
  String.raw`^([a-z0-9][a-z0-9 ]{0,30}): (\d{1,6})([+\-])(\d{1,6}): ((?:${COLUMN} ){0,6}${COLUMN}) so (\d{1,7})$`,
);
const BOX_RE = /^\\boxed\{(\d{1,7})\}$/;

export function readBody(body: string): StepValue | null {
  const b = body.trim();
  let m = OP_RE.exec(b);
  if (m) return { type: 'op', quote: m[1], x: Number(m[2]), op: m[3] as Op, y: Number(m[4]), z: Number(m[5]) };
  m = WRITTEN_RE.exec(b);
  if (m)
    return { type: 'op', quote: m[1], x: Number(m[2]), op: m[3] as Op, y: Number(m[4]), z: Number(m[6]), work: m[5] };
  m = BOX_RE.exec(b);
  if (m) return { type: 'answer', z: Number(m[1]) };
  return null;
}

/**
 * A step body as the judge reads it: a written-out step becomes its claim (`sells 12: 38-12=26`), every other
 * body is returned as it is. The judge checks the claim (src/world/columns.ts `ninesCheck`), never the
 * columns, so both ways of doing a step meet the same check and cost the judge the same context.
 */
export function claimOf(body: string): string {
  const v = readBody(body);
  return v?.type === 'op' && v.work !== undefined ? formatAction(v.quote, v.x, v.op, v.y, v.z) : body;
}

/** The last \boxed{…} content of a text (the graded answer), or null. */
export function extractBoxed(text: string): string | null {
  const all = [...text.matchAll(/\\boxed\{([^}]*)\}/g)];
  return all.length ? all[all.length - 1][1].trim() : null;
}

/** Every decimal number written in a text, as strings (the judge's "does 37 appear above?"). */
export function numbersIn(text: string): string[] {
  return text.match(/\d+/g) ?? [];
}
