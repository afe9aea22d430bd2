// IFT data: each problem's canonical solution as `Step 1: … Step k: \boxed{answer}` under the step prompt
// (paper Fig. 4; §4.1 of arXiv:2503.03746 builds these by re-segmenting NuminaMath solutions with GPT-o1;
// our world writes them in step format directly). Every completion re-checks as correct with the verifier.
import type { Problem } from '../world/generator.js';
import { stepWork } from '../world/columns.js';
import { formatAction, formatBoxed, formatWritten } from '../world/format.js';
import { WorldRng, seedOf } from '../world/rng.js';
import { joinSteps } from './steps.js';
import type { IftRecord } from './schema.js';
import { renderStepPrompt, type PromptTemplate } from './templates.js';

/**
 * The step bodies of a problem's solution: its arithmetic steps, then `\boxed{answer}`. With `written` > 0,
 * each sum or difference is written out in columns with that probability (`sells 12: 38-12: 8-2=6 3-1=2 so
 * 26`), drawn from the problem's and the step's coordinates alone (docs/world.md "Two ways to do a step");
 * 0 gives the one-line steps only.
 */
export function solutionBodies(p: Problem, written = 0): string[] {
  const steps = p.actions.map((a, i) => {
    const work = written > 0 ? stepWork(a.x, a.op, a.y) : null;
    if (work !== null && new WorldRng(seedOf('written', p.split, p.index, i)).chance(written))
      return formatWritten(a.quote, a.x, a.op, a.y, work, a.z);
    return formatAction(a.quote, a.x, a.op, a.y, a.z);
  });
  return [...steps, formatBoxed(p.answer)];
}

/** The solution text: one `Step n: ` line per step, each ending in "\n" (`written` as in solutionBodies). */
export function solutionText(p: Problem, written = 0): string {
  return joinSteps(solutionBodies(p, written));
}

/** An IFT record; `written` is the share of sums and differences written out in columns. */
export function iftRecord(p: Problem, t: PromptTemplate, written = 0): IftRecord {
  return {
    id: `ift-${p.id}`,
    split: p.split,
    index: p.index,
    prompt: renderStepPrompt(t, p.text),
    completion: solutionText(p, written),
    eos: true,
    problem: p.text,
    answer: p.answer,
    steps: p.steps,
  };
}
