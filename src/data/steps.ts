// Where a step of a solution ends: the one rule behind sampling a step, cutting a sampled step, splitting a
// solution into steps and joining steps back (paper §3.3; docs/method.md §3, open choices 5 and 6). The policy
// writes `Step n: ` before each step and the final answer in \boxed{} (Fig. 4).
//
// Two rules, chosen by the prompt template's `steps` field (absent: `line`):
//   line    one step per line, `Step n: <body>\n`: a step ends at its newline, which stays in the step. The
//           synthetic world writes steps this way (src/world/format.ts), so this rule IS the world's: the
//           same stop (`\n`, kept), the same final test and the same split, bit for bit.
//   marked  the paper's steps as real models write them: a step runs from its `Step n:` marker to the next
//           `Step n+1:` marker at the start of a line (the marker is not part of the step), to the end of
//           the boxed answer, or to the end of the text. Bodies span lines (display math, lists) and may
//           hold blank lines. Only the next number ends a step, so a line starting `Step 1:` inside step 3
//           (a reference back) does not; a marker inside a line is text.
// Why a setting and not one generalised rule: on the world's complete texts the marked split coincides with
// the line split, but while sampling it does not. Stopping at `\nStep n+1:` samples past the newline,
// spends tokens on the next marker (a step can hit max_step_tokens where it did not), and ends the final
// step at end-of-sequence instead of at its newline, so the world's searches would change. The template
// is the honest place for the choice: it is the policy's output format, the same one its IFT data taught.
//
// The boxed answer's end is the end of the paragraph holding the box's closing brace (braces balanced,
// `\{` and `\}` are text): the first blank line after it, the next step's marker, or the end of the text.
// Not the brace itself, nor its line: real solutions close the box inside inline or display math
// (`$\boxed{5}$.`, `&= \boxed{5}.\n\end{align*}`), and cutting there drops the closing `$` or
// `\end{align*}`, which changes the solution's text and teaches unbalanced LaTeX. Commentary after the
// answer in a new paragraph ("As an extra challenge, ...") is not part of the solution.
//
// Sampling (stepStops): the line rule stops at `\n`, kept in the text; the marked rule stops at
// `\nStep n+1:`, not kept, which every OpenAI-compatible server accepts as a `stop` string. A stop string
// cannot express the boxed answer's end, and a server may ignore stops, so the rule itself (stepEnd) is
// applied to every sampled text afterwards (cutStep): the stop strings only save tokens. A marked step as
// kept ends with exactly one newline, `Step n: <body>\n`, the layout joinSteps renders earlier steps in, so
// a pair's chosen step is the text that the next step's prompt continues.
//
// Bodies: the text after the marker, with leading and trailing whitespace (blank lines included) removed;
// inside a body every character is kept, blank lines and indentation too. joinSteps writes `Step n: `,
// the body and one newline per step, so splitting joined steps gives the bodies back whenever no body
// holds a line starting with the next step's marker and only the last body holds a closed box.
//
// Why data/: the search, the judge's templates, segmentation and IFT all import data/, and the rule is
// about text the templates prompt for, not about the synthetic world; the world (below data/) keeps its
// own one-line format, which the line rule reuses rather than copies.
import type { FinishReason } from '../engine/types.js';
import { isFinalStep, renderSteps, stepBody as bodyOf, stepLabel as labelOf } from '../world/format.js';

export const STEP_RULES = ['line', 'marked'] as const;
export type StepRule = (typeof STEP_RULES)[number];

/** The rule a template asks for (its optional `steps` field; default `line`, the synthetic world's). */
export function stepRuleOf(t: { steps?: StepRule }): StepRule {
  return t.steps ?? 'line';
}

/** The label before a step's body: `Step 3: `. */
export function stepLabel(n: number): string {
  return labelOf(n);
}

/** The body of a step: its `Step n:` label and surrounding whitespace removed, everything else kept. */
export function stepBody(text: string): string {
  return bodyOf(text);
}

/** Steps from their bodies: `Step n: <body>\n` each, numbered from `first` (both rules). */
export function joinSteps(bodies: readonly string[], first = 1): string {
  return renderSteps(bodies, first);
}

/** Engine stop options while sampling step n (GenerateOptions.stop / include_stop). */
export function stepStops(rule: StepRule, n: number): { stop: string[]; include_stop: boolean } {
  return rule === 'line' ? { stop: ['\n'], include_stop: true } : { stop: [`\nStep ${n + 1}:`], include_stop: false };
}

/**
 * Index just after the closing brace of the first `\boxed{…}` in text[from, to) whose braces balance, or -1.
 * A backslash makes the next character text (`\{`, `\}`, `\\`).
 */
export function boxedEnd(text: string, from = 0, to = text.length): number {
  for (let at = text.indexOf('\\boxed{', from); at >= 0 && at < to; at = text.indexOf('\\boxed{', at + 1)) {
    let depth = 0;
    for (let j = at + 6; j < to; j++) {
      const c = text[j];
      if (c === '\\') j++;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) return j + 1;
    }
  }
  return -1;
}

/** A step holds its solution's answer. line: the world's test (src/world/format.ts); marked: a closed box. */
export function isFinal(rule: StepRule, text: string): boolean {
  return rule === 'line' ? isFinalStep(text) : boxedEnd(text) >= 0;
}

// a marker starts a line (after spaces or tabs); `Step m:` with any m, or the next step's own number
const MARKER = /(^|\n)[ \t]*Step[ \t]+(\d+)[ \t]*:/g;
const nextMarkerRe = (n: number) => new RegExp(`\\n[ \\t]*Step[ \\t]+${n}[ \\t]*:`);

/** Every `Step m:` marker at the start of a line: where its `Step` starts, and m. */
export function stepMarkers(text: string): Array<{ at: number; n: number }> {
  return [...text.matchAll(MARKER)].map((m) => ({
    at: m.index + m[0].length - m[0].trimStart().length,
    n: Number(m[2]),
  }));
}

/** Where step n ends in a text that starts at the step (its label, or whatever the model wrote first). */
export interface StepEnd {
  /** The step is text[0, end): the line rule's newline included, the marked rule's next marker not. */
  end: number;
  /** The step holds the answer (isFinal). */
  final: boolean;
}

/**
 * Has `text`, sampled for step n, completed the step? The end when it has, null while it may go on.
 * `whole`: nothing follows the text (end-of-sequence, the engine's stop, the end of a solution), so the
 * step ends at the end of the text at the latest.
 */
export function stepEnd(rule: StepRule, text: string, n: number, whole = false): StepEnd | null {
  if (rule === 'line') {
    const nl = text.indexOf('\n');
    const end = nl >= 0 ? nl + 1 : whole ? text.length : -1;
    return end < 0 ? null : { end, final: isFinalStep(text.slice(0, end)) };
  }
  // the marker needs its newline (as the stop string does): a text that starts `Step n+1:` is step n mislabelled
  const next = nextMarkerRe(n + 1).exec(text);
  const limit = next ? next.index : text.length;
  const box = boxedEnd(text, 0, limit);
  if (box >= 0) {
    const para = /\n[ \t\r]*\n/g;
    para.lastIndex = box;
    const p = para.exec(text);
    if (p && p.index < limit) return { end: p.index, final: true };
    if (next || whole) return { end: limit, final: true };
    return null;
  }
  return next || whole ? { end: limit, final: false } : null;
}

/** A sampled completion's text and why it ended (Completion's fields). */
export interface SampledStep {
  text: string;
  finish_reason: FinishReason;
}

/**
 * The step that a completion sampled for step n holds, as the search keeps it. line: the text up to its
 * first newline (an engine that honoured the `\n` stop returns exactly that: the text is unchanged).
 * marked: the text up to the rule's end, ending in one newline; a text that the engine stopped at the
 * next marker, or ended with end-of-sequence, ends there. A text cut by the token bound before the step
 * ended stays as sampled (an unfinished step). The finish reason becomes 'stop' when text was cut off.
 */
export function cutStep<C extends SampledStep>(rule: StepRule, c: C, n: number): C {
  const whole = rule === 'marked' && c.finish_reason !== 'length';
  const e = stepEnd(rule, c.text, n, whole);
  if (!e) return c;
  const rest = c.text.slice(e.end);
  const finish_reason = rest.trim() === '' ? c.finish_reason : 'stop';
  if (rule === 'line') return rest === '' ? c : { ...c, text: c.text.slice(0, e.end), finish_reason };
  const step = c.text.slice(0, e.end).trimEnd();
  const text = step === '' ? c.text : `${step}\n`;
  return text === c.text && finish_reason === c.finish_reason ? c : { ...c, text, finish_reason };
}

/** A solution split into steps. */
export interface SplitSolution {
  /** Bodies (stepBody) in order, up to and including the final step. */
  steps: string[];
  /** The number each step's marker carries. */
  numbers: number[];
  /** A step holds the answer; steps after it are not part of the solution. */
  final: boolean;
  /** Text before the first marker, and after the final step (both trimmed): not part of any step. */
  before: string;
  after: string;
}

/**
 * Splits a whole solution. marked: step k starts at the first line-start marker (whatever its number m)
 * and step k+1 at the next marker numbered m+1, as stepEnd reads it; the split stops after the final
 * step. line: the world's split (src/world/format.ts), continuation lines joined to their step.
 */
export function splitSolution(rule: StepRule, text: string): SplitSolution {
  if (rule === 'line') return splitLines(text);
  const out: SplitSolution = { steps: [], numbers: [], final: false, before: text.trim(), after: '' };
  const first = stepMarkers(text)[0];
  if (!first) return out;
  out.before = text.slice(0, first.at).trim();
  let rest = text.slice(first.at);
  let n = first.n;
  for (;;) {
    const e = stepEnd('marked', rest, n, true)!;
    out.steps.push(bodyOf(rest.slice(0, e.end)));
    out.numbers.push(n);
    if (e.final) {
      out.final = true;
      out.after = rest.slice(e.end).trim();
      return out;
    }
    if (e.end === rest.length) return out;
    rest = rest.slice(e.end).trimStart(); // the next marker, which ended this step, starts what is left
    n++;
  }
}

const LABEL = /^\s*Step\s+(\d+)\s*:/;

/** The world's split (splitSteps in src/world/format.ts, the same steps), with numbers, before and after. */
function splitLines(text: string): SplitSolution {
  const lines = text.split('\n');
  const full: string[] = [];
  const numbers: number[] = [];
  const starts: number[] = [];
  lines.forEach((line, i) => {
    const m = LABEL.exec(line);
    if (m) {
      full.push(line.trim());
      numbers.push(Number(m[1]));
      starts.push(i);
    } else if (full.length > 0 && line.trim() !== '') full[full.length - 1] += `\n${line.trim()}`;
  });
  const k = full.findIndex((s) => isFinalStep(s));
  const kept = k >= 0 ? k + 1 : full.length;
  return {
    steps: full.slice(0, kept).map(bodyOf),
    numbers: numbers.slice(0, kept),
    final: k >= 0,
    before: lines
      .slice(0, starts[0] ?? lines.length)
      .join('\n')
      .trim(),
    after: k >= 0 && kept < starts.length ? lines.slice(starts[kept]).join('\n').trim() : '',
  };
}
