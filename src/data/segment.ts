// IFT from real datasets by step segmentation (paper §3.2, Fig. 3: a strong model splits existing worked
// solutions into `Step n:` steps). Whatever produced the segmentation — a model through an engine, or the
// deterministic GSM8K segmenter below — its output is validated, not trusted:
//   numbering   `Step 1:` … `Step k:` in order from 1, no gap, no repeat (every marker at a line start)
//   box         a \boxed{…}; steps are read by the paper's step rule (src/data/steps.ts, `marked`), the
//               one the search samples by, so the solution ends with the paragraph of the first box
//   text        the solution's text unchanged but for step markers and whitespace: both sides are
//               normalised (markers, \boxed{…} wrappers, GSM8K calculator notes `<<…>>` and `####`
//               removed, whitespace collapsed) and compared; a difference is reported as the first edit
//               with context on both sides
//   answer      the boxed answer, which the grader (Qwen2.5-Math rules, src/eval) finds
//               equal to the gold answer
// Rejected items keep their reason, so a builder can write them out and count why.
//
// The GSM8K segmenter: GSM8K's own layout is one line per step, `<<a*b=c>>` calculator notes and a last
// line `#### N`. Each non-empty line before `####` becomes a step with its notes removed, and the last step
// gets ` \boxed{N}` appended. It needs no model and is the baseline the model-based segmenter must beat.
import { gradeSync } from '../eval/grade.js';
import { lastBoxed } from '../eval/extract.js';
import { splitSolution, stepMarkers } from './steps.js';

export interface SegmentSource {
  id: string;
  question: string;
  /** The worked solution as the dataset gives it. */
  solution: string;
  gold: string;
}

export type SegmentFailure = 'no_steps' | 'numbering' | 'text_changed' | 'no_box' | 'wrong_answer';

export interface SegmentCheck {
  ok: boolean;
  reason?: SegmentFailure;
  /** Human-readable detail: the first edit for text_changed, the numbers for numbering, the answers. */
  detail?: string;
  steps: string[];
}

/** Text as compared: no step markers, no \boxed{} wrapper (its content kept), no GSM8K notes, one space. */
export function normaliseSolution(text: string): string {
  let s = text
    .replace(/<<[^>]*>>/g, '')
    .replace(/####/g, ' ')
    .replace(/(^|\s)Step\s+\d+\s*:/g, ' ');
  // unwrap \boxed{...} with balanced braces
  for (;;) {
    const i = s.indexOf('\\boxed{');
    if (i < 0) break;
    let depth = 0,
      j = i + 6;
    for (; j < s.length; j++) {
      if (s[j] === '{') depth++;
      else if (s[j] === '}' && --depth === 0) break;
    }
    s = s.slice(0, i) + ' ' + s.slice(i + 7, j) + ' ' + s.slice(j + 1);
  }
  return s.replace(/\s+/g, ' ').trim();
}

/** The first place two normalised texts differ, with up to 30 characters of context on each side. */
export function firstEdit(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  let ea = a.length - 1,
    eb = b.length - 1;
  while (ea >= i && eb >= i && a[ea] === b[eb]) {
    ea--;
    eb--;
  }
  const ctx = a.slice(Math.max(0, i - 30), i);
  return `at character ${i}: …${ctx}[${a.slice(i, ea + 1)} → ${b.slice(i, eb + 1)}]${a.slice(ea + 1, ea + 31)}…`;
}

/** Validates a segmentation of `src` (the engine's or a segmenter's output). */
export function validateSegmentation(src: SegmentSource, output: string): SegmentCheck {
  const numbers = stepMarkers(output).map((m) => m.n);
  const { steps, final, before } = splitSolution('marked', output);
  if (steps.length === 0) return { ok: false, reason: 'no_steps', detail: 'no "Step n:" marker', steps };
  const bad = numbers.findIndex((n, k) => n !== k + 1);
  if (bad >= 0)
    return {
      ok: false,
      reason: 'numbering',
      detail: `step markers ${numbers.join(', ')}: expected ${bad + 1} at position ${bad + 1}`,
      steps,
    };
  // the box first: without it the text also differs (the gold line has no place), but the box is the cause
  const boxed = final ? lastBoxed(steps[steps.length - 1]!) : undefined;
  if (boxed === undefined) return { ok: false, reason: 'no_box', detail: 'no \\boxed{} closes in any step', steps };
  // text after the box's paragraph (or steps after it) is no step's: it shows up as a text change
  const a = normaliseSolution(src.solution),
    b = normaliseSolution((before ? before + ' ' : '') + steps.join(' '));
  if (a !== b) return { ok: false, reason: 'text_changed', detail: firstEdit(a, b), steps };
  if (!gradeSync({ gold: src.gold, pred: boxed }))
    return { ok: false, reason: 'wrong_answer', detail: `boxed ${boxed}, gold ${src.gold}`, steps };
  return { ok: true, steps };
}

/** GSM8K's `#### N` answer (thousands commas removed, as the toolkit's gold). */
export function gsm8kGold(answer: string): string | null {
  const m = /####\s*(.+)\s*$/.exec(answer.trim());
  return m ? m[1]!.trim().replace(/,/g, '') : null;
}

/** The deterministic GSM8K segmenter: a step per line, notes removed, ` \boxed{N}` after the last. */
export function segmentGsm8k(answer: string): string | null {
  const m = /####\s*(.+)\s*$/.exec(answer.trim());
  if (!m) return null;
  // boxed as written after #### (`1,000` stays `1,000`: the text must not change; the grader reads it)
  const gold = m[1]!.trim();
  const lines = answer
    .slice(0, answer.lastIndexOf('####'))
    .split('\n')
    .map((l) => l.replace(/<<[^>]*>>/g, '').trim())
    .filter(Boolean);
  if (lines.length === 0) return null;
  lines[lines.length - 1] = `${lines[lines.length - 1]} \\boxed{${gold}}`;
  return lines.map((l, i) => `Step ${i + 1}: ${l}`).join('\n') + '\n';
}
