// The step rule (src/data/steps.ts). On real MATH solutions written in `Step n:` form (test/fixtures/
// math-steps.json: multi-line display math, blank lines inside and between steps, commentary after the
// answer) the marked rule finds the bodies and the trailing text the fixture names; while a text grows
// token by token it ends a step exactly where the stop string `\nStep n+1:` does, or at the boxed answer's
// paragraph; it cuts an engine's or a stop-ignoring server's text to the same step. The line rule is the
// world's, bit for bit, and the marked split coincides with it on the world's solutions. Segmentation
// validation and the judge's prompts keep multi-line steps whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  boxedEnd,
  cutStep,
  isFinal,
  joinSteps,
  splitSolution,
  stepBody,
  stepEnd,
  stepMarkers,
  stepRuleOf,
  stepStops,
} from '../../src/data/steps.js';
import { loadTemplate, renderJudgePrompt, validateTemplate } from '../../src/data/templates.js';
import { validateSegmentation } from '../../src/data/segment.js';
import { lastBoxed } from '../../src/eval/extract.js';
import { solutionText } from '../../src/data/ift.js';
import { generateProblems, worldConfig } from '../../src/world/generator.js';
import { isFinalStep, splitSteps, stepBody as worldBody } from '../../src/world/format.js';
import { ROOT } from '../reference/env.js';

interface Item {
  idx: number;
  problem: string;
  solution: string;
  text: string;
  steps: string[];
  after: string;
}
const items = (
  JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'math-steps.json'), 'utf8')) as { items: Item[] }
).items;
const item = (idx: number) => items.find((x) => x.idx === idx)!;

test('marked split: real multi-line solutions give back their steps whole, and the text after the answer', () => {
  assert.equal(items.length, 5);
  for (const it of items) {
    const s = splitSolution('marked', it.text);
    assert.deepEqual(s.steps, it.steps, `MATH ${it.idx}`);
    assert.deepEqual(
      s.numbers,
      it.steps.map((_, k) => k + 1),
    );
    assert.equal(s.final, true);
    assert.equal(s.before, '');
    assert.equal(s.after, it.after, `MATH ${it.idx}`);
    // joining and splitting again is the identity on bodies; the joined text is `Step n: body\n` each
    const joined = joinSteps(s.steps);
    assert.deepEqual(splitSolution('marked', joined).steps, s.steps);
    assert.equal(joined, s.steps.map((b, k) => `Step ${k + 1}: ${b}\n`).join(''));
  }
  // a blank line inside a step stays (MATH 14, step 1), and the box inside display math keeps its
  // environment's end (MATH 39: the box closes a line before \end{align*})
  assert.match(item(14).steps[0]!, /distance formula,\n\n\\begin\{align\*\}/);
  assert.ok(item(39).steps[1]!.endsWith('24x^2}.\n\\end{align*}'));
  assert.ok(item(28).steps[1]!.endsWith('&= \\boxed{5}\n\\end{align*}'));
});

test('marked split: only the next number ends a step; markers sit at line starts; text before step 1', () => {
  const text =
    'Let me solve it.\nStep 1: x = 2.\nStep 1: repeated? as said in\nStep 3: no\n' +
    'Step 2: y = x + Step 3: inline\n  Step 3: so $\\boxed{4}$.';
  const s = splitSolution('marked', text);
  assert.equal(s.before, 'Let me solve it.');
  assert.deepEqual(s.steps, [
    'x = 2.\nStep 1: repeated? as said in\nStep 3: no',
    'y = x + Step 3: inline',
    'so $\\boxed{4}$.',
  ]);
  assert.deepEqual(s.numbers, [1, 2, 3]);
  assert.deepEqual(
    stepMarkers(text).map((m) => m.n),
    [1, 1, 3, 2, 3],
  );
  assert.equal(text.slice(stepMarkers(text)[4]!.at, stepMarkers(text)[4]!.at + 7), 'Step 3:');
  // no box: every step to the end, not final; no marker: nothing
  assert.deepEqual(splitSolution('marked', 'Step 1: a\nb\n\nStep 2: c\n'), {
    steps: ['a\nb', 'c'],
    numbers: [1, 2],
    final: false,
    before: '',
    after: '',
  });
  assert.deepEqual(splitSolution('marked', 'just text').steps, []);
  // steps after the answer's paragraph are not part of the solution
  const late = splitSolution('marked', 'Step 1: $\\boxed{1}$\nStep 2: check');
  assert.deepEqual([late.steps, late.after], [['$\\boxed{1}$'], 'Step 2: check']);
});

test('boxed answers: balanced braces, escaped braces are text, an unclosed box is not an answer', () => {
  const t = 'so $\\boxed{\\frac{1}{2}}$ and';
  assert.equal(t.slice(0, boxedEnd(t)), 'so $\\boxed{\\frac{1}{2}}');
  assert.equal(boxedEnd('\\boxed{\\{1, 2\\}} x'), '\\boxed{\\{1, 2\\}}'.length);
  assert.equal(boxedEnd('\\boxed{\\left\\{ x \\right.} x'), '\\boxed{\\left\\{ x \\right.}'.length);
  assert.equal(boxedEnd('\\boxed{\\frac{1}{2'), -1);
  assert.equal(boxedEnd('\\boxed{1', 0, 5), -1);
  assert.equal(isFinal('marked', 'Step 4: $\\boxed{\\frac{1}{2'), false);
  assert.equal(isFinal('marked', 'Step 4: $\\boxed{\\frac{1}{2}}$'), true);
});

test('during generation: a step completes exactly when `\\nStep n+1:` is written, or at the answer paragraph', () => {
  for (const it of items) {
    const marks = stepMarkers(it.text);
    for (let k = 0; k < it.steps.length; k++) {
      const n = k + 1;
      const rest = it.text.slice(marks[k]!.at);
      const stop = stepStops('marked', n).stop[0]!;
      assert.equal(stop, `\nStep ${n + 1}:`);
      // grow the text one character at a time: the first prefix the rule calls complete
      let done = -1;
      for (let i = 1; i <= rest.length && done < 0; i++) if (stepEnd('marked', rest.slice(0, i), n) !== null) done = i;
      const e = stepEnd('marked', rest, n, true)!;
      if (k < it.steps.length - 1) {
        // where a stop string check would fire: the end of the first `\nStep n+1:`
        assert.equal(done, rest.indexOf(stop) + stop.length, `MATH ${it.idx} step ${n}`);
        assert.equal(e.final, false);
      } else if (it.after) {
        // the blank line after the answer's paragraph ends it
        const para = rest.indexOf('\n\n', rest.indexOf('\\boxed{'));
        assert.equal(done, para + 2, `MATH ${it.idx} step ${n}`);
        assert.equal(e.final, true);
      } else {
        // nothing after the answer: it ends with the text (end-of-sequence), not at its closing brace
        assert.equal(done, -1, `MATH ${it.idx} step ${n}`);
        assert.equal(e.final, true);
      }
      assert.equal(stepBody(rest.slice(0, e.end)), it.steps[k]);
    }
  }
});

test('cutStep: the engine that stopped, the server that ignored the stop and end-of-sequence keep one step', () => {
  const it = item(18);
  const n = 2;
  const rest = it.text.slice(stepMarkers(it.text)[1]!.at); // step 2 and what a model writes after it
  const step = `Step 2: ${it.steps[1]}\n`;
  // an engine that honoured the stop (not kept): the text ends before "\n\nStep 3:"'s second newline
  const stopped = rest.slice(0, rest.indexOf('\nStep 3:'));
  assert.deepEqual(cutStep('marked', { text: stopped, finish_reason: 'stop' }, n), {
    text: step,
    finish_reason: 'stop',
  });
  // a server that ignored it: the rule cuts, and says the step stopped
  assert.deepEqual(cutStep('marked', { text: rest, finish_reason: 'eos' }, n), { text: step, finish_reason: 'stop' });
  // cut by the token bound before the step ended: unfinished, as sampled
  const cut = { text: rest.slice(0, 40), finish_reason: 'length' as const };
  assert.equal(cutStep('marked', cut, n), cut);
  // the final step ended by end-of-sequence: one newline after it, finish kept
  const last = `Step 3: ${it.steps[2]}`;
  assert.deepEqual(cutStep('marked', { text: last, finish_reason: 'eos' }, 3), {
    text: `${last}\n`,
    finish_reason: 'eos',
  });
  // commentary after the answer's paragraph goes
  const kite = item(14);
  const k2 = kite.text.slice(stepMarkers(kite.text)[1]!.at);
  assert.deepEqual(cutStep('marked', { text: k2, finish_reason: 'eos' }, 2), {
    text: `Step 2: ${kite.steps[1]}\n`,
    finish_reason: 'stop',
  });
  // a text that starts with the next number is this step mislabelled, not an empty step
  assert.deepEqual(cutStep('marked', { text: 'Step 3: x\nStep 3: y', finish_reason: 'eos' }, 2), {
    text: 'Step 3: x\n',
    finish_reason: 'stop',
  });
});

test("line rule: the world's stop, final test and split, bit for bit; the marked split agrees on world text", () => {
  assert.deepEqual(stepStops('line', 1), { stop: ['\n'], include_stop: true });
  assert.deepEqual(stepStops('line', 7), stepStops('line', 1));
  const world = worldConfig();
  for (const p of generateProblems(world, 'train', 200)) {
    const text = solutionText(p);
    const line = splitSolution('line', text);
    const marked = splitSolution('marked', text);
    const w = splitSteps(text);
    assert.deepEqual(line.steps, w.steps.map(worldBody));
    assert.equal(line.final, w.final);
    assert.deepEqual(marked, line);
    assert.equal(joinSteps(line.steps), text);
    // every step as an engine returns it (stop "\n" kept) is unchanged by the cut
    for (const [k, body] of line.steps.entries()) {
      const c = { text: `Step ${k + 1}: ${body}\n`, finish_reason: 'stop' as const };
      assert.equal(cutStep('line', c, k + 1), c);
      assert.equal(isFinal('line', c.text), isFinalStep(c.text));
    }
  }
  // end-of-sequence and token-bound texts have no newline: unchanged too
  for (const finish_reason of ['eos', 'length'] as const) {
    const c = { text: 'Step 2: sells 12: 38-1', finish_reason };
    assert.equal(cutStep('line', c, 2), c);
  }
  // the world's final test, quirks included (a box closed by the first brace)
  for (const s of ['\\boxed{{1}', '\\boxed{12', 'Step 3: \\boxed{7}\n', 'x'])
    assert.equal(isFinal('line', s), isFinalStep(s));
  // continuation lines join their step; text before the first label and after the final step is reported
  const odd = 'intro\nStep 1: a\n  more\nStep 2: \\boxed{3}\nStep 3: late\n';
  assert.deepEqual(splitSolution('line', odd), {
    steps: ['a\nmore', '\\boxed{3}'],
    numbers: [1, 2],
    final: true,
    before: 'intro',
    after: 'Step 3: late',
  });
  assert.deepEqual(splitSolution('line', odd).steps, splitSteps(odd).steps.map(worldBody));
});

test('templates name their rule; the paper judge prompt shows multi-line steps whole', () => {
  assert.equal(stepRuleOf(loadTemplate('compact')), 'line');
  assert.equal(stepRuleOf(loadTemplate('compact-next')), 'line');
  assert.equal(stepRuleOf(loadTemplate('paper')), 'marked');
  assert.throws(
    () => validateTemplate({ ...loadTemplate('paper'), steps: 'lines' }, 'z.json'),
    /z.json: field 'steps' must be "line" or "marked" when present \(got "lines"\)/,
  );
  const t = loadTemplate('paper');
  const it = item(18);
  const prompt = renderJudgePrompt(t, {
    problem: it.problem,
    steps: [`Step 1: ${it.steps[0]}\n`],
    stepA: `Step 2: ${it.steps[1]}\n`,
    stepB: 'Step 2: guess\n\n$$s = 2t$$\n',
  });
  assert.ok(
    prompt.includes(
      `${it.problem}\nStep 1: ${it.steps[0]}\n\n[The Start of Assistant A's Next Reasoning Step]\n` +
        `Step 2: ${it.steps[1]}\n[The End of`,
    ),
  );
  assert.ok(
    prompt.includes("[The Start of Assistant B's Next Reasoning Step]\nStep 2: guess\n\n$$s = 2t$$\n[The End of"),
  );
});

test('segmentation of real MATH solutions: multi-line steps validate; text after the answer is a change', () => {
  for (const it of items) {
    const c = validateSegmentation(
      { id: String(it.idx), question: it.problem, solution: it.solution, gold: lastBoxed(it.solution)! },
      it.text,
    );
    if (it.after) {
      assert.equal(c.reason, 'text_changed', `MATH ${it.idx}`);
      assert.match(c.detail!, /extra challenge|- OR -/); // the commentary is missing on the split side
    } else {
      assert.deepEqual(c, { ok: true, steps: it.steps }, `MATH ${it.idx}: ${c.detail}`);
    }
  }
});
