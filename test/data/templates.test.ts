// Templates render exactly as docs/world.md shows, load by name, and reject typos.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { renderScorePrompt } from '../../src/data/score.js';
import {
  asTurn,
  listTemplates,
  loadTemplate,
  parseVerdict,
  renderCheckPrompt,
  renderCheckTarget,
  renderJudgePrompt,
  renderJudgeTarget,
  renderSegmentPrompt,
  renderStepPrompt,
  stepInstruction,
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

test('judge_view claims: the judge and the scorer read a written-out step as its claim; written leaves it', () => {
  const t = loadTemplate('compact');
  assert.equal(t.judge_view, 'claims');
  const x = {
    problem,
    steps: ['Step 1: buys 15: 23+15: 3+5=8 2+1=3 so 38', '2 bags of 6: 2*6=12'],
    stepA: 'Step 3: sells 12: 38-12: 8-2=6 3-1=2 so 26',
    stepB: 'sells 12: 38-12=36',
  };
  const plain = {
    ...x,
    steps: ['buys 15: 23+15=38', '2 bags of 6: 2*6=12'],
    stepA: 'sells 12: 38-12=26',
  };
  assert.equal(renderJudgePrompt(t, x), renderJudgePrompt(t, plain));
  assert.equal(
    renderCheckPrompt(t, { ...x, letter: 'A', step: x.stepA }),
    renderCheckPrompt(t, { ...plain, letter: 'A', step: plain.stepA }),
  );
  const solution = 'Step 1: buys 15: 23+15: 3+5=8 2+1=3 so 38\nStep 2: \\boxed{38}\n';
  assert.equal(
    renderScorePrompt(t, problem, solution),
    renderScorePrompt(t, problem, 'Step 1: buys 15: 23+15=38\nStep 2: \\boxed{38}\n'),
  );
  // as written: the columns stay in the judge's context
  const w = { ...t, judge_view: 'written' as const };
  assert.ok(renderJudgePrompt(w, x).includes('A: sells 12: 38-12: 8-2=6 3-1=2 so 26\n'));
  assert.ok(renderScorePrompt(w, problem, solution).includes('23+15: 3+5=8 2+1=3 so 38'));
  assert.throws(
    () => validateTemplate({ ...t, judge_view: 'results' }, 'z.json'),
    /z.json: field 'judge_view' must be "written" or "claims" when present \(got "results"\)/,
  );
});

test('loader: names, unknown names, unknown placeholders', () => {
  assert.deepEqual(listTemplates(), ['compact', 'compact-next', 'paper', 'paper-smollm2']);
  assert.throws(
    () => loadTemplate('nope'),
    /unknown prompt template 'nope' \(have: compact, compact-next, paper, paper-smollm2\)/,
  );
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

test("a chat turn: paper-smollm2 is paper inside SmolLM2-Instruct's turn, for every prompt the model answers", () => {
  const paper = loadTemplate('paper'),
    chat = loadTemplate('paper-smollm2');
  const turn = (p: string) =>
    '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' +
    `<|im_start|>user\n${p}<|im_end|>\n<|im_start|>assistant\n`;
  const judge = { problem, steps: ['Step 1: 23+15 = 38'], stepA: 'Step 2: 38-12 = 26', stepB: 'Step 2: 38-12 = 24' };
  assert.equal(renderStepPrompt(chat, problem), turn(renderStepPrompt(paper, problem)));
  assert.equal(stepInstruction(chat, problem), renderStepPrompt(paper, problem));
  assert.equal(renderJudgePrompt(chat, judge), turn(renderJudgePrompt(paper, judge)));
  assert.equal(renderSegmentPrompt(chat, 'Q $x$', 'S {y}'), turn(renderSegmentPrompt(paper, 'Q $x$', 'S {y}')));
  // the scorer quotes the step instruction, not a turn inside a turn
  assert.equal(renderScorePrompt(chat, problem, 'R'), turn(renderScorePrompt(paper, problem, 'R')));
  assert.equal(renderScorePrompt(chat, problem, 'R').split('<|im_start|>user').length, 2);
  // everything else is paper's; a prompt holding `$&` or `{prompt}` is inserted literally
  for (const k of ['step_prompt', 'judge_prompt', 'context', 'steps', 'candidate', 'judge_target'] as const)
    assert.equal(chat[k], paper[k]);
  assert.equal(asTurn(chat, 'a $& {prompt} b'), turn('a $& {prompt} b'));
  assert.equal(asTurn(paper, 'as is'), 'as is');
});

test('extends and turn: errors name the file and the fix', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-tpl-'));
  const put = (name: string, o: Record<string, unknown>) =>
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ name, ...o }));
  put('base', { ...loadTemplate('compact'), name: 'base' });
  put('a', { extends: 'b', description: 'x' });
  put('b', { extends: 'a', description: 'y' });
  assert.throws(() => loadTemplate('a', dir), /'extends' makes a cycle \(a -> b -> a\)/);
  put('no-prompt', { extends: 'base', turn: '<user>' });
  assert.throws(() => loadTemplate('no-prompt', dir), /field 'turn' must hold \{prompt\} exactly once/);
  put('bad-field', { extends: 'base', turn: '{problem}' });
  assert.throws(() => loadTemplate('bad-field', dir), /field 'turn' has unknown placeholder \{problem\}/);
  put('missing', { extends: 'nope' });
  assert.throws(() => loadTemplate('missing', dir), /unknown prompt template 'nope'/);
  put('ok', { extends: 'base', description: 'child', turn: '[{prompt}]' });
  const t = loadTemplate('ok', dir);
  assert.equal(t.description, 'child');
  assert.equal(renderStepPrompt(t, 'P'), `[${renderStepPrompt(loadTemplate('compact'), 'P')}]`);
});
