// Step segmentation (src/data/segment.ts, segment-run.ts): the validator against crafted outputs (an
// altered number, a dropped sentence, renumbered steps, a missing box, a wrong boxed answer, no markers),
// the GSM8K segmenter on real GSM8K items, and a segmentation run through a scripted engine that resumes
// after an interruption without asking the engine again for what is done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Completion, Engine, GenerateOptions } from '../../src/engine/types.js';
import { gsm8kGold, normaliseSolution, segmentGsm8k, validateSegmentation } from '../../src/data/segment.js';
import { runSegment } from '../../src/data/segment-run.js';

const solution =
  'Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in ' +
  'April and May.\n#### 72';
const src = { id: 'n', question: 'Natalia sold clips…', solution, gold: '72' };
const good =
  'Step 1: Natalia sold 48/2 = 24 clips in May.\nStep 2: Natalia sold 48+24 = 72 clips altogether in April and ' +
  'May. \\boxed{72}\n';

test('the validator accepts a faithful segmentation and names what is wrong with the others', () => {
  assert.equal(segmentGsm8k(solution), good);
  assert.deepEqual(validateSegmentation(src, good), {
    ok: true,
    steps: [
      'Natalia sold 48/2 = 24 clips in May.',
      'Natalia sold 48+24 = 72 clips altogether in April and May. \\boxed{72}',
    ],
  });
  // whitespace and line breaks do not matter
  assert.ok(validateSegmentation(src, good.replace('\n', '\n\n   ')).ok);
  const cases: Array<[string, string, RegExp]> = [
    [good.replace('48/2 = 24', '48/2 = 25'), 'text_changed', /\[4 → 5\]/],
    [good.replace(' clips in May.', ''), 'text_changed', /clips in May\./],
    [good.replace('Step 2:', 'Step 3:'), 'numbering', /1, 3/],
    [good.replace('Step 1:', 'Step 0:'), 'numbering', /0, 2/],
    [good.replace('\\boxed{72}', '72'), 'no_box', /no \\boxed/],
    [
      good.replace('Natalia sold 48+24 = 72', 'Natalia sold 48+24 = 72').replace('\\boxed{72}', '\\boxed{73}'),
      'text_changed',
      /\[2 → 3\]/,
    ],
    ['Natalia sold 48/2 = 24 clips in May. Natalia sold 48+24 = 72 clips altogether.', 'no_steps', /no "Step n:"/],
  ];
  for (const [out, reason, detail] of cases) {
    const c = validateSegmentation(src, out);
    assert.equal(c.ok, false, out);
    assert.equal(c.reason, reason, `${out}: ${c.detail}`);
    assert.match(c.detail!, detail);
  }
  // a boxed answer the grader finds different from the gold, with the text otherwise unchanged
  const wrongGold = validateSegmentation({ ...src, gold: '70' }, good);
  assert.equal(wrongGold.reason, 'wrong_answer');
  assert.match(wrongGold.detail!, /boxed 72, gold 70/);
  // the grader's equivalence, not string equality: 72.0 equals 72
  assert.ok(validateSegmentation({ ...src, gold: '72.0' }, good).ok);
});

test('GSM8K: gold with commas removed, boxed as written, notes gone', () => {
  const a = 'He pays 1,000 + 200 = $<<1000+200=1200>>1,200.\n#### 1,200';
  assert.equal(gsm8kGold(a), '1200');
  const s = segmentGsm8k(a)!;
  assert.equal(s, 'Step 1: He pays 1,000 + 200 = $1,200. \\boxed{1,200}\n');
  assert.ok(validateSegmentation({ id: 'x', question: 'q', solution: a, gold: '1200' }, s).ok);
  assert.equal(normaliseSolution('Step 1: a  <<1+1=2>>b\nStep 2: \\boxed{\\frac{1}{2}}'), 'a b \\frac{1}{2}');
  assert.equal(segmentGsm8k('no answer line'), null);
});

test(
  'a model-based segmentation run validates, writes rejects with reasons, and resumes without asking ' + 'again',
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-seg-'));
    try {
      const input = path.join(dir, 'in.jsonl'),
        out = path.join(dir, 'ift.jsonl');
      const items = [
        { question: 'Q1', answer: solution },
        { question: 'Q2', answer: 'It is 2+2 = <<2+2=4>>4.\n#### 4' },
        { question: 'Q3', answer: 'Half of 10 is 5.\n#### 5' },
      ];
      writeFileSync(input, items.map((x) => JSON.stringify(x)).join('\n') + '\n');
      // scripted "model": right for Q1, drops a number for Q2, forgets the box for Q3
      const replies: Record<string, string> = {
        Q1: good,
        Q2: 'Step 1: It is 2+2 = . \\boxed{4}',
        Q3: 'Step 1: Half of 10 is 5.',
      };
      const asked: string[] = [];
      const engine: Engine = {
        name: 'scripted',
        tokenize: (s) => [...s].map((c) => c.charCodeAt(0)),
        detokenize: () => '',
        logprob: async () => [],
        close: async () => {},
        generate: async (prompts: string[], _o: GenerateOptions) =>
          prompts.map((p) => {
            const q = /Q\d/.exec(p)![0];
            asked.push(q);
            return [{ text: replies[q]!, tokens: [], logprobs: [], finish_reason: 'eos' } as Completion];
          }),
      };
      const base = { input, out, engine, template: 'paper', batch: 2, max_tokens: 64 };
      const first = await runSegment({ ...base, limit: 2 }); // "interrupted" after two items
      assert.deepEqual(first, { kept: 1, rejected: { text_changed: 1 }, skipped: 0 });
      const second = await runSegment(base);
      assert.deepEqual(second, { kept: 1, rejected: { text_changed: 1, no_box: 1 }, skipped: 2 });
      assert.deepEqual(asked, ['Q1', 'Q2', 'Q3'], 'each item asked once');
      const kept = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(kept.length, 1);
      assert.equal(kept[0].completion, good);
      assert.match(kept[0].prompt, /Problem: Q1\n$/);
      const rej = readFileSync(out + '.rejected.jsonl', 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        rej.map((r) => r.reason),
        ['text_changed', 'no_box'],
      );
      const man = JSON.parse(readFileSync(out + '.manifest.json', 'utf8'));
      assert.equal(man.kept, 1);
      assert.deepEqual(man.rejected, { text_changed: 1, no_box: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
