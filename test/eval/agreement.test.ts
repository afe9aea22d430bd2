// Agreement with the toolkit's verdicts on recorded third-party case collections (test/eval/cases/, README
// there): inputs from Math-Verify's and hendrycks' test suites, PRM800K records and the benchmarks' own
// reference solutions, each with the verdict the Qwen2.5-Math toolkit itself gave. Required: >= 99.5%.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { caseVerdict, type RecordedCase } from '../../src/eval/cases.js';

const dir = fileURLToPath(new URL('../../../test/eval/cases/', import.meta.url));

for (const f of readdirSync(dir).filter((x) => x.endsWith('.jsonl'))) {
  test(`agreement with the toolkit on ${f} is at least 99.5%`, () => {
    const rows = readFileSync(dir + f, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as RecordedCase);
    assert.ok(rows.length > 100, 'a collection of a useful size');
    const wrong = rows.filter((r) => caseVerdict(r).equal !== r.toolkit_equal);
    const rate = 1 - wrong.length / rows.length;
    assert.ok(
      rate >= 0.995,
      `${(100 * rate).toFixed(2)}%; first disagreements: ${JSON.stringify(wrong.slice(0, 5).map((r) => r.id))}`,
    );
    // Normalised strings are pure string logic: they must be identical, not just close.
    const strings = rows.filter((r) => {
      const v = caseVerdict(r);
      return v.gold !== r.toolkit_gold || v.pred !== r.toolkit_pred;
    });
    assert.deepEqual(
      strings.map((r) => r.id),
      [],
    );
  });
}
