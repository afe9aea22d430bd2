// Prompt templates are data: JSON files in templates/ (the paper's verbatim prompts, docs/method.md §4,
// as `paper`, and `compact` variants with the same structure for the small model). A
// run picks one by name; this module loads it and renders the step prompt (paper Fig. 4), the pairwise
// judge prompt (Fig. 5) and the judge's target (explanation, then `[[A]]` or `[[B]]`). A template also
// names its step rule (`steps`, src/data/steps.ts): how the policy's steps are delimited, `line` for the
// synthetic world's one step per line (the default), `marked` for the paper's multi-line steps.
//
// Rendering is plain substitution of `{name}` placeholders. A template that names a placeholder its field
// does not have is an error at load time, so a typo in a data file cannot silently leak into prompts.
//
// An instruction-tuned model reads its prompts as a chat turn: sent as a plain document, SmolLM2-135M-Instruct
// continues the paper's step prompt with empty `Step n:` lines and the judge prompt with more judge prompt,
// while the same text inside its chat template gives `Step 1: …` steps and an answer (docs/serving.md, "A real
// model on CPU"). A template's optional `turn` ({prompt}) wraps every prompt the model answers (step, judge,
// check, segment, score) in that model's turn markup; the solution, the judgment or the segmented solution is
// the assistant's reply, ended by the model's end-of-sequence token. `extends` names a template whose fields
// this one starts from (`paper-smollm2` is `paper` in SmolLM2-Instruct's turn).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimOf } from '../world/format.js';
import { joinSteps, stepBody, STEP_RULES, type StepRule } from './steps.js';

export interface PromptTemplate {
  name: string;
  description: string;
  /** Instruction + problem; the solution (`Step 1: …`) follows directly. Placeholder: {problem}. */
  step_prompt: string;
  /** Pairwise judge prompt. Placeholders: {context}, {step_a}, {step_b}. */
  judge_prompt: string;
  /** How the problem and the earlier steps render inside the judge prompt: {problem}, {steps}. */
  context: string;
  /** Whether a candidate step appears with its `Step n: ` label ("step") or as its bare body ("body"). */
  candidate: 'step' | 'body';
  /** Where a step ends (src/data/steps.ts): "line" (default) or "marked" (multi-line, to `Step n+1:`). */
  steps?: StepRule;
  /** The judge's output: {check_a}, {check_b} (each "ok" or a short reason), {verdict} (A or B), and
   *  optionally {next}: what the next step must do, as a scratch line (`sells 12 on 38`, `answer 52`). */
  judge_target: string;
  /** Step segmentation (paper Fig. 3), for building IFT with an outside model: {question}, {solution}. */
  segment_prompt: string;
  /** Solution scoring (the SRLM baseline's additive judge): {prompt}, {response}. */
  score_prompt: string;
  /** Optional: a single-candidate check (src/data/single.ts), the judge's work on one candidate shown as
   *  {letter} (A or B): prompt {context}, {letter}, {step}; target {letter}, {check}. */
  check_prompt?: string;
  check_target?: string;
  /** Optional: the model's chat turn around every prompt it answers ({prompt}); the reply follows it. */
  turn?: string;
  /** How the judge and the scorer read steps: "written" (as the policy wrote them, the default) or "claims"
   *  (a step written out in columns is read as its claim `x<op>y=z`, src/world/format.ts `claimOf`: the
   *  check never reads the columns, and the judge's context stays the same length whichever way a step was
   *  done). */
  judge_view?: JudgeView;
}

export const JUDGE_VIEWS = ['written', 'claims'] as const;
export type JudgeView = (typeof JUDGE_VIEWS)[number];

const FIELDS: Record<
  keyof Omit<
    PromptTemplate,
    'name' | 'description' | 'candidate' | 'steps' | 'check_prompt' | 'check_target' | 'turn' | 'judge_view'
  >,
  string[]
> = {
  step_prompt: ['problem'],
  judge_prompt: ['context', 'step_a', 'step_b'],
  context: ['problem', 'steps'],
  judge_target: ['check_a', 'check_b', 'verdict', 'next'],
  segment_prompt: ['question', 'solution'],
  score_prompt: ['prompt', 'response'],
};
const OPTIONAL_FIELDS: Record<'check_prompt' | 'check_target' | 'turn', string[]> = {
  check_prompt: ['context', 'letter', 'step'],
  check_target: ['letter', 'check'],
  turn: ['prompt'],
};

/** The templates/ folder of the package (next to dist/ and src/). */
export function templatesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = path.join(dir, 'templates');
    if (existsSync(path.join(cand, 'compact.json'))) return cand;
    dir = path.dirname(dir);
  }
  throw new Error('templates/ folder not found above ' + fileURLToPath(import.meta.url));
}

export function listTemplates(dir = templatesDir()): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

function placeholders(s: string): string[] {
  return [...s.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
}

/** Checks a parsed template object; throws naming the first problem. */
export function validateTemplate(t: unknown, source = 'template'): PromptTemplate {
  if (typeof t !== 'object' || t === null) throw new Error(`${source}: not a JSON object`);
  const o = t as Record<string, unknown>;
  for (const k of ['name', 'description', ...Object.keys(FIELDS)]) {
    if (typeof o[k] !== 'string') throw new Error(`${source}: field '${k}' must be a string`);
  }
  if (o.candidate !== 'step' && o.candidate !== 'body')
    throw new Error(`${source}: field 'candidate' must be "step" or "body"`);
  if (o.steps !== undefined && !(STEP_RULES as readonly unknown[]).includes(o.steps)) {
    throw new Error(
      `${source}: field 'steps' must be ${STEP_RULES.map((r) => `"${r}"`).join(' or ')} when present ` +
        `(got ${JSON.stringify(o.steps)})`,
    );
  }
  if (o.judge_view !== undefined && !(JUDGE_VIEWS as readonly unknown[]).includes(o.judge_view))
    throw new Error(
      `${source}: field 'judge_view' must be ${JUDGE_VIEWS.map((v) => `"${v}"`).join(' or ')} when present ` +
        `(got ${JSON.stringify(o.judge_view)})`,
    );
  for (const k of Object.keys(OPTIONAL_FIELDS)) {
    if (o[k] !== undefined && typeof o[k] !== 'string')
      throw new Error(`${source}: field '${k}' must be a string when present`);
  }
  if ((o.check_prompt === undefined) !== (o.check_target === undefined))
    throw new Error(`${source}: give both 'check_prompt' and 'check_target', or neither`);
  for (const [k, allowed] of [...Object.entries(FIELDS), ...Object.entries(OPTIONAL_FIELDS)]) {
    if (o[k] === undefined) continue;
    for (const p of placeholders(o[k] as string)) {
      if (!allowed.includes(p))
        throw new Error(
          `${source}: field '${k}' has unknown placeholder {${p}} ` +
            `(allowed: ${allowed.map((a) => `{${a}}`).join(', ')})`,
        );
    }
  }
  if (o.turn !== undefined && placeholders(o.turn as string).join() !== 'prompt')
    throw new Error(`${source}: field 'turn' must hold {prompt} exactly once`);
  return o as unknown as PromptTemplate;
}

/** Loads templates/<name>.json (with the fields of the template it `extends`, its own fields winning). */
export function loadTemplate(name: string, dir = templatesDir(), seen: string[] = []): PromptTemplate {
  const file = path.join(dir, `${name}.json`);
  if (!existsSync(file)) throw new Error(`unknown prompt template '${name}' (have: ${listTemplates(dir).join(', ')})`);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  let merged = raw;
  if (raw.extends !== undefined) {
    if (typeof raw.extends !== 'string') throw new Error(`${file}: field 'extends' must be a template name`);
    if ([...seen, name].includes(raw.extends))
      throw new Error(`${file}: 'extends' makes a cycle (${[...seen, name, raw.extends].join(' -> ')})`);
    const { extends: parent, ...own } = raw;
    merged = { ...loadTemplate(parent, dir, [...seen, name]), ...own };
  }
  const t = validateTemplate(merged, file);
  if (t.name !== name) throw new Error(`${file}: field 'name' is '${t.name}', expected '${name}'`);
  return t;
}

/** A prompt as the model reads it: inside the template's chat turn, or as it is when it has none. */
export function asTurn(t: PromptTemplate, prompt: string): string {
  return t.turn === undefined ? prompt : t.turn.replace('{prompt}', () => prompt);
}

/** Substitutes {name} placeholders; every placeholder in `s` must have a value. */
export function fill(s: string, vars: Record<string, string>): string {
  return s.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, k: string) => {
    if (!(k in vars)) throw new Error(`template placeholder {${k}} has no value`);
    return vars[k];
  });
}

/** The step instruction for a problem, outside any chat turn (the SRLM scorer quotes it). */
export function stepInstruction(t: PromptTemplate, problem: string): string {
  return fill(t.step_prompt, { problem });
}

/** The step prompt for a problem text (the policy's input; IFT's prompt). */
export function renderStepPrompt(t: PromptTemplate, problem: string): string {
  return asTurn(t, stepInstruction(t, problem));
}

/** A step's body as the judge reads it under the template's `judge_view`. */
export function judgeBody(t: PromptTemplate, step: string): string {
  const body = stepBody(step);
  return t.judge_view === 'claims' ? claimOf(body) : body;
}

/** A solution's text as the scorer reads it: each `Step n:` line under the template's `judge_view`. */
export function judgeSolution(t: PromptTemplate, solution: string): string {
  if (t.judge_view !== 'claims') return solution;
  return solution.replace(/^(Step \d+: )(.*)$/gm, (_all, label: string, body: string) => label + claimOf(body));
}

/** Problem and earlier steps as the judge sees them; `steps` are bodies or full step lines. */
export function renderContext(t: PromptTemplate, problem: string, steps: readonly string[]): string {
  return fill(t.context, { problem, steps: joinSteps(steps.map((s) => judgeBody(t, s))) });
}

/** A candidate step as shown to the judge: its bare body, or `Step n: body` (n = its position). */
export function renderCandidate(t: PromptTemplate, n: number, step: string): string {
  const body = judgeBody(t, step);
  return t.candidate === 'body' ? body : joinSteps([body], n).trimEnd();
}

export interface JudgeInput {
  problem: string;
  /** Earlier steps (bodies or full `Step n:` lines). */
  steps: readonly string[];
  stepA: string;
  stepB: string;
}

/** The pairwise judge prompt (paper Fig. 5 or its compact variant). */
export function renderJudgePrompt(t: PromptTemplate, x: JudgeInput): string {
  const n = x.steps.length + 1;
  return asTurn(
    t,
    fill(t.judge_prompt, {
      context: renderContext(t, x.problem, x.steps),
      step_a: renderCandidate(t, n, x.stepA),
      step_b: renderCandidate(t, n, x.stepB),
    }),
  );
}

export interface CheckInput {
  problem: string;
  /** Earlier steps (bodies or full `Step n:` lines). */
  steps: readonly string[];
  letter: 'A' | 'B';
  step: string;
}

function needCheckFields(t: PromptTemplate): { check_prompt: string; check_target: string } {
  if (t.check_prompt === undefined || t.check_target === undefined)
    throw new Error(`template '${t.name}' has no check_prompt/check_target (single-candidate checks)`);
  return { check_prompt: t.check_prompt, check_target: t.check_target };
}

/** A single-candidate check prompt (src/data/single.ts). */
export function renderCheckPrompt(t: PromptTemplate, x: CheckInput): string {
  return asTurn(
    t,
    fill(needCheckFields(t).check_prompt, {
      context: renderContext(t, x.problem, x.steps),
      letter: x.letter,
      step: renderCandidate(t, x.steps.length + 1, x.step),
    }),
  );
}

/** A single-candidate check's target: the candidate's check line under its letter. */
export function renderCheckTarget(t: PromptTemplate, letter: 'A' | 'B', check: string): string {
  return fill(needCheckFields(t).check_target, { letter, check });
}

/** The segmentation prompt (paper Fig. 3) for a question and its worked solution. */
export function renderSegmentPrompt(t: PromptTemplate, question: string, solution: string): string {
  return asTurn(t, fill(t.segment_prompt, { question, solution }));
}

/** The judge's target: a check line for A and for B, then the verdict (and the `next` line where the
 *  template has one). */
export function renderJudgeTarget(
  t: PromptTemplate,
  checkA: string,
  checkB: string,
  verdict: 'A' | 'B',
  next = '',
): string {
  return fill(t.judge_target, { check_a: checkA, check_b: checkB, verdict, next });
}

/**
 * The verdict of a judge output (open choice 7, docs/method.md §3): `A` or `B` when the text holds `[[A]]` or
 * `[[B]]` and not both; null otherwise (a parse failure: no win for either candidate).
 */
export function parseVerdict(text: string): 'A' | 'B' | null {
  const a = text.includes('[[A]]'),
    b = text.includes('[[B]]');
  return a === b ? null : a ? 'A' : 'B';
}
