// IFT data: each problem's canonical solution as `Step 1: … Step k: \boxed{answer}` under the step prompt
// (paper Fig. 4; §4.1 of arXiv:2503.03746 builds these by re-segmenting NuminaMath solutions with GPT-o1;
// our world writes them in step format directly). Every completion re-checks as correct with the verifier.
import type { Problem } from '../world/generator.js';
import { formatAction, formatBoxed } from '../world/format.js';
import { joinSteps } from './steps.js';
import type { IftRecord } from './schema.js';
import { renderStepPrompt, type PromptTemplate } from './templates.js';

/** The canonical step bodies of a problem: its arithmetic steps, then `\boxed{answer}`. */
export function solutionBodies(p: Problem): string[] {
  return [...p.actions.map((a) => formatAction(a.quote, a.x, a.op, a.y, a.z)), formatBoxed(p.answer)];
}

/** The canonical solution text: one `Step n: ` line per step, each ending in "\n". */
export function solutionText(p: Problem): string {
  return joinSteps(solutionBodies(p));
}

export function iftRecord(p: Problem, t: PromptTemplate): IftRecord {
  return {
    id: `ift-${p.id}`,
    split: p.split,
    index: p.index,
    prompt: renderStepPrompt(t, p.text),
    completion: solutionText(p),
    eos: true,
    problem: p.text,
    answer: p.answer,
    steps: p.steps,
  };
}
