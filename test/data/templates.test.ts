// Templates render exactly as docs/world.md shows, load by name, and reject typos.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  listTemplates,
  loadTemplate,
  parseVerdict,
  renderCheckPrompt,
  renderCheckTarget,
  renderJudgePrompt,
  renderJudgeTarget,
  renderStepPrompt,
  templatesDir,
  validateTemplate,
} from '../../src/data/templates.js';

const problem = 'Ann has 23 pens. She buys 15. She sells 2 bags of 6. How many now?';

test('compact templates render exactly as documented', () => {
  const t = loadTemplate('compact');
  assert.equal(
    renderStepPrompt(t, problem),
    'Solve step by step.\nProblem: Ann has 23 pens. She buys 15. She sells 2 bags of 6. How many now?\n',
  );
  const judge = renderJudgePrompt(t, {
    problem,
    steps: ['Step 1: buys 15: 23+15=38', '2 bags of 6: 2*6=12'],
    stepA: 'Step 3: sells 12: 38-12=26',
    stepB: 'sells 12: 38+12=50',
  });
  assert.equal(
    judge,
    'Judge the next step.\nProblem: Ann has 23 pens. She buys 15. She sells 2 bags of 6. How many now?\nStep 1: ' +
      'buys 15: 23+15=38\nStep 2: 2 bags of 6: 2*6=12\nA: sells 12: 38-12=26\nB: sells 12: 38+12=50\nCheck:\n',
  );
  assert.equal(renderJudgeTarget(t, 'ok', 'sells means -', 'A'), 'A: ok\nB: sells means -\n[[A]]');
  // The same text appears in the docs, so the docs cannot drift from the data.
  const doc = readFileSync(path.join(templatesDir(), '..', 'docs', 'world.md'), 'utf8');
  assert.ok(
    doc.includes(
      judge +
        renderJudgeTarget(t, '38-12=26: 1+2=3, 2+6=8, 3+8=11 1+1=2, 3+8=11 1+1=2 so 2|2= ok', 'sells means -', 'A'),
    ),
    'docs/world.md shows the compact judge example verbatim',
  );
  // a single-candidate check: the same context, one candidate under its letter, its check line
  const check = renderCheckPrompt(t, {
    problem,
    steps: ['buys 15: 23+15=38', '2 bags of 6: 2*6=12'],
    letter: 'B',
    step: 'sells 12: 38-12=36',
  });
  assert.equal(
    check,
    'Check the next step.\nProblem: Ann has 23 pens. She buys 15. She sells 2 bags of 6. How many now?\nStep 1: ' +
      'buys 15: 23+15=38\nStep 2: 2 bags of 6: 2*6=12\nB: sells 12: 38-12=36\nCheck:\n',
  );
  const target = renderCheckTarget(t, 'B', '38-12=36: 1+2=3, 3+6=9, 3+9=12 1+2=3, 3+8=11 1+1=2 so 3|2! no');
  assert.equal(target, 'B: 38-12=36: 1+2=3, 3+6=9, 3+9=12 1+2=3, 3+8=11 1+1=2 so 3|2! no');
  assert.ok(doc.includes(check + target), 'docs/world.md shows the single-check example verbatim');
});

test('compact-next: the same prompt as compact, a Next: line before the checks', () => {
  const c = loadTemplate('compact'),
    n = loadTemplate('compact-next');
  const x = { problem, steps: ['buys 15: 23+15=38'], stepA: 'a: 1+1=2', stepB: 'b: 1+2=3' };
  assert.equal(renderJudgePrompt(n, x), renderJudgePrompt(c, x));
  assert.equal(renderStepPrompt(n, problem), renderStepPrompt(c, problem));
  assert.equal(
    renderJudgeTarget(n, 'ok', 'sells means -', 'A', 'sells 12 on 38'),
    'Next: sells 12 on 38\nA: ok\nB: sells means -\n[[A]]',
  );
  assert.equal(renderJudgeTarget(c, 'ok', 'sells means -', 'A', 'sells 12 on 38'), 'A: ok\nB: sells means -\n[[A]]');
});

test('paper templates are the verbatim figures, with the same slots', () => {
  const t = loadTemplate('paper');
  const step = renderStepPrompt(t, problem);
  assert.ok(
    step.startsWith('Let\'s think step by step and solve the following math problem. Use "Step n: " before each step'),
  );
  assert.ok(
    step.endsWith(
      'Put your final answer in boxed.\n\nProblem: Ann has 23 pens. She buys 15. She sells 2 bags of 6. How ' +
        'many now?\n',
    ),
  );
  const judge = renderJudgePrompt(t, {
    problem,
    steps: ['buys 15: 23+15=38'],
    stepA: '2 bags of 6: 2*6=12',
    stepB: '2 bags of 6: 2+6=8',
  });
  assert.ok(judge.startsWith('Please act as an impartial judge and evaluate the quality of two next reasoning steps'));
  assert.ok(
    judge.includes(
      '[Question and Intermediate Reasoning Steps Provided]\n' +
        problem +
        "\nStep 1: buys 15: 23+15=38\n\n[The Start of Assistant A's Next Reasoning Step]\nStep 2: 2 bags of 6: " +
        "2*6=12\n[The End of Assistant A's Next Reasoning Step]\n\n[The Start of Assistant B's Next Reasoning " +
        "Step]\nStep 2: 2 bags of 6: 2+6=8\n[The End of Assistant B's Next Reasoning Step]\n",
    ),
  );
  assert.ok(t.score_prompt.includes('Conclude with the score using the format: "Score: <total points>"'));
  assert.ok(t.segment_prompt.includes('[The Start of Solution Provided]\n{solution}\n[The End of Solution Provided]'));
});

test('loader: names, unknown names, unknown placeholders', () => {
  assert.deepEqual(listTemplates(), ['compact', 'compact-next', 'paper']);
  assert.throws(() => loadTemplate('nope'), /unknown prompt template 'nope' \(have: compact, compact-next, paper\)/);
  const t = { ...loadTemplate('compact'), judge_prompt: '{context}{step_c}' };
  assert.throws(() => validateTemplate(t, 'x.json'), /x.json: field 'judge_prompt' has unknown placeholder \{step_c\}/);
  assert.throws(() => validateTemplate({ ...t, candidate: 'both' }), /'candidate' must be/);
  const c = loadTemplate('compact');
  assert.throws(
    () => validateTemplate({ ...c, check_prompt: '{context}{stp}' }, 'y.json'),
    /y.json: field 'check_prompt' has unknown placeholder \{stp\}/,
  );
  assert.throws(
    () => validateTemplate({ ...c, check_target: undefined }, 'y.json'),
    /y.json: give both 'check_prompt' and 'check_target', or neither/,
  );
  assert.equal(loadTemplate('paper').check_prompt, undefined); // optional
});

test('parseVerdict: one verdict or none', () => {
  assert.equal(parseVerdict('A: ok\nB: 7 is not above\n[[A]]'), 'A');
  assert.equal(parseVerdict('... [[B]]'), 'B');
  assert.equal(parseVerdict('[[A]] or [[B]]'), null);
  assert.equal(parseVerdict('A is better'), null);
});
